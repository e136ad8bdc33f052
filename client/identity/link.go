package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/parleynet/parley/internal/signbytes"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// linkPrefix marks a link request token.
const linkPrefix = "parley-link-v1:"

// LinkRequest is what a new device shows to be linked to an existing user
// the way messengers link a second device: its user, its device ID and
// key, the user's seq it was made at, and its possession signature, which
// is exactly the pop_sig MsgAddDevice needs (add-pop sign bytes over the
// chain ID, the user's owner account, the user, seq, device ID and key).
// An existing device that approves it sends MsgAddDevice itself, so the
// new device needs no account, no tokens and no way back to the approver.
type LinkRequest struct {
	UserID   string
	DeviceID string
	Seq      uint64
	PubKey   ed25519.PublicKey
	PopSig   []byte
}

// Errors of link requests.
var (
	// ErrBadLink means a link token could not be read.
	ErrBadLink = errors.New("malformed link token")
	// ErrLinkRefused means a link request is well formed but must not be
	// approved here; the message says why.
	ErrLinkRefused = errors.New("link request refused")
)

// Encode returns the request as one copyable token:
//
//	token = "parley-link-v1:" ‖ base64url-nopad(body)
//	body  = str(user_id) ‖ str(device_id) ‖ u64(seq) ‖ str(pubkey) ‖ str(pop_sig)
//
// with str and u64 as in the sign bytes (2-byte big-endian length; 8-byte
// big-endian number).
func (r LinkRequest) Encode() string {
	body := &signbytes.Builder{}
	body.String(r.UserID).String(r.DeviceID).Uint64(r.Seq).Bytes(r.PubKey).Bytes(r.PopSig)
	return linkPrefix + base64.RawURLEncoding.EncodeToString(body.Done())
}

// DecodeLink reads a token made by Encode. It checks the form only (IDs,
// key and signature sizes); CheckLink checks it against the chain.
func DecodeLink(token string) (LinkRequest, error) {
	token = strings.Join(strings.Fields(token), "") // survive line breaks from copying
	if !strings.HasPrefix(token, linkPrefix) {
		return LinkRequest{}, fmt.Errorf("%w: it should start with %q", ErrBadLink, linkPrefix)
	}
	bz, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, linkPrefix))
	if err != nil {
		return LinkRequest{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	rd := reader{b: bz}
	r := LinkRequest{UserID: string(rd.str()), DeviceID: string(rd.str()), Seq: rd.u64()}
	r.PubKey = ed25519.PublicKey(rd.str())
	r.PopSig = rd.str()
	switch {
	case rd.bad:
		return LinkRequest{}, fmt.Errorf("%w: it is cut short (copy all of it)", ErrBadLink)
	case len(rd.b) != 0:
		return LinkRequest{}, fmt.Errorf("%w: %d bytes after the end", ErrBadLink, len(rd.b))
	case len(r.PubKey) != ed25519.PublicKeySize:
		return LinkRequest{}, fmt.Errorf("%w: public key is %d bytes, want %d", ErrBadLink, len(r.PubKey), ed25519.PublicKeySize)
	case len(r.PopSig) != ed25519.SignatureSize:
		return LinkRequest{}, fmt.Errorf("%w: possession signature is %d bytes, want %d", ErrBadLink, len(r.PopSig), ed25519.SignatureSize)
	}
	if err := identitytypes.ValidateUserID("user", r.UserID); err != nil {
		return LinkRequest{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	if err := identitytypes.ValidateDeviceID("device", r.DeviceID); err != nil {
		return LinkRequest{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	return r, nil
}

// reader takes str and u64 fields off the front of b; bad is set once
// any read ran past the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) str() []byte {
	if r.bad || len(r.b) < 2 {
		r.bad = true
		return nil
	}
	n := int(binary.BigEndian.Uint16(r.b))
	if len(r.b) < 2+n {
		r.bad = true
		return nil
	}
	v := append([]byte(nil), r.b[2:2+n]...)
	r.b = r.b[2+n:]
	return v
}

func (r *reader) u64() uint64 {
	if r.bad || len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// labelLinkCode separates link codes from every other hash in Parley.
const labelLinkCode = "parley/v1/identity/link-code"

// Shape of the verification code: 4 groups of 5 digits (about 66 bits).
const (
	linkCodeGroups = 4
	linkCodeBytes  = 5 // a big-endian uint40 per group
	linkCodeModulo = 100000
)

// LinkCode is the verification code both devices show for a link: the
// new device from its own key, the approver from the token it received.
// Equal codes mean the approver is about to add the very key the new
// device holds, not one that someone who intercepted the token put in
// its place. With
//
//	d = SHA-256(str("parley/v1/identity/link-code") ‖ str(chain_id) ‖ str(user_id) ‖ str(device_id) ‖ str(pubkey))
//
// group i (0 to 3) is the big-endian uint40 of d[5i:5i+5] mod 100000 as
// five zero-padded digits, joined by single spaces: "01234 56789 00042 99999".
func LinkCode(chainID, userID, deviceID string, pub []byte) string {
	msg := signbytes.New(labelLinkCode, chainID).String(userID).String(deviceID).Bytes(pub).Done()
	d := sha256.Sum256(msg)
	groups := make([]string, linkCodeGroups)
	for i := range groups {
		var v uint64
		for _, b := range d[i*linkCodeBytes : (i+1)*linkCodeBytes] {
			v = v<<8 | uint64(b)
		}
		groups[i] = fmt.Sprintf("%05d", v%linkCodeModulo)
	}
	return strings.Join(groups, " ")
}

// SameCode compares a code a person typed with the expected one,
// ignoring spaces and dashes.
func SameCode(typed, want string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '\t' {
				return -1
			}
			return r
		}, s)
	}
	return norm(typed) != "" && norm(typed) == norm(want)
}
