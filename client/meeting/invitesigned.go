package meeting

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// A signed invite is a statement by the meeting's leader device: this
// meeting, on this chain, verified from this anchor, with this schedule
// and passcode flag. Its text form is a link to the receiver's own
// `parley ui` (DefaultUIBase), the statement in the fragment, which a
// browser never sends to any server:
//
//	http://127.0.0.1:8765/join#<base64url, no padding, of the payload>
//	payload = u8(1) ‖ str(chain_id) ‖ str(meeting_id) ‖ str(leader_user) ‖ str(leader_device)
//	          ‖ u64(passcode_required) ‖ u64(starts_at) ‖ u64(duration_seconds)
//	          ‖ u64(anchor_height) ‖ str(anchor_hash) ‖ str(sig)
//
// sig is Ed25519 by the leader device over meetingtypes.InviteSignBytes
// (the same fields after str("parley/v1/invite")). Nothing in it is
// trusted before VerifyInvite checked it against the chain.

// InviteVersion is the payload's first byte.
const InviteVersion = 1

// DefaultUIBase is where `parley ui` listens by default; invite links
// point there so that a click opens the receiver's own page.
const DefaultUIBase = "http://127.0.0.1:8765"

// maxInvitePayload bounds what ParseInvite decodes (a real one is ~200 B).
const maxInvitePayload = 1024

// Errors of a signed invite, each naming what a person can check.
var (
	ErrInviteMalformed = errors.New("malformed invite")
	ErrInviteChain     = errors.New("the invite is for another chain")
	ErrInviteAnchor    = errors.New("the invite's trust anchor differs from this client's")
	ErrInviteNoAnchor  = errors.New("this client has no trust anchor for the invite's chain")
	ErrInviteSignature = errors.New("the invite's signature does not verify against the device key on chain")
	ErrInviteNotLeader = errors.New("the invite is not signed by the meeting's leader")
	ErrInviteMismatch  = errors.New("the invite does not match the meeting on chain")
)

// SignedInvite is a signed invite's fields and signature.
type SignedInvite struct {
	meetingtypes.InviteFields
	Sig []byte
}

// SignInvite makes the leader device's signed invite.
func SignInvite(d Device, f meetingtypes.InviteFields) *SignedInvite {
	return &SignedInvite{InviteFields: f, Sig: d.Key.SignMessage(meetingtypes.InviteSignBytes(f))}
}

// InviteFor builds the fields of an invite to meeting m (read with a
// proof) from a client that verifies from anchor.
func InviteFor(chainID string, m meetingtypes.Meeting, anchor verify.Anchor) meetingtypes.InviteFields {
	f := meetingtypes.InviteFields{
		ChainID: chainID, MeetingID: m.MeetingId, LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice,
		PasscodeRequired: m.Policy.PasscodeRequired, AnchorHeight: anchor.Height, AnchorHash: anchor.Hash,
	}
	if m.Scheduled() {
		f.StartsAt, f.DurationSeconds = m.StartsAt, uint64(m.ExpiresAt-m.StartsAt)
	}
	return f
}

// Invite returns s as an Invite (chain, meeting and anchor filled in).
func (s *SignedInvite) Invite() Invite {
	return Invite{ChainID: s.ChainID, MeetingID: s.MeetingID, Trust: s.anchor(), Signed: s}
}

func (s *SignedInvite) anchor() string {
	return verify.Anchor{Height: s.AnchorHeight, Hash: s.AnchorHash}.String()
}

// Start is the scheduled start, zero when unscheduled.
func (s *SignedInvite) Start() time.Time {
	if s.StartsAt == 0 {
		return time.Time{}
	}
	return time.Unix(s.StartsAt, 0).UTC()
}

// Payload encodes s (see the layout above), base64url without padding.
func (s *SignedInvite) Payload() string {
	var b bytes.Buffer
	str := func(x []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint16(len(x)))
		b.Write(x)
	}
	u64 := func(n uint64) { _ = binary.Write(&b, binary.BigEndian, n) }
	b.WriteByte(InviteVersion)
	str([]byte(s.ChainID))
	str(s.MeetingID)
	str([]byte(s.LeaderUser))
	str([]byte(s.LeaderDevice))
	passcode := uint64(0)
	if s.PasscodeRequired {
		passcode = 1
	}
	u64(passcode)
	u64(uint64(s.StartsAt))
	u64(s.DurationSeconds)
	u64(uint64(s.AnchorHeight))
	str(s.AnchorHash)
	str(s.Sig)
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// parsePayload decodes a payload; it checks the shape only.
func parsePayload(text string) (*SignedInvite, error) {
	if len(text) > maxInvitePayload*4/3+4 {
		return nil, fmt.Errorf("%w: %d characters, more than an invite has", ErrInviteMalformed, len(text))
	}
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url: %v", ErrInviteMalformed, err)
	}
	r := payloadReader{b: raw}
	if v := r.byte(); v != InviteVersion {
		return nil, fmt.Errorf("%w: version %d, this client reads %d", ErrInviteMalformed, v, InviteVersion)
	}
	s := &SignedInvite{}
	s.ChainID = string(r.str())
	s.MeetingID = r.str()
	s.LeaderUser = string(r.str())
	s.LeaderDevice = string(r.str())
	passcode := r.u64()
	s.StartsAt = int64(r.u64())
	s.DurationSeconds = r.u64()
	s.AnchorHeight = int64(r.u64())
	s.AnchorHash = r.str()
	s.Sig = r.str()
	switch {
	case r.err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInviteMalformed, r.err)
	case len(r.b) != 0:
		return nil, fmt.Errorf("%w: %d bytes after the signature", ErrInviteMalformed, len(r.b))
	case passcode > 1:
		return nil, fmt.Errorf("%w: passcode flag %d", ErrInviteMalformed, passcode)
	case s.ChainID == "":
		return nil, fmt.Errorf("%w: no chain ID", ErrInviteMalformed)
	case len(s.MeetingID) != meetingtypes.MeetingIDSize:
		return nil, fmt.Errorf("%w: meeting ID of %d bytes, want %d", ErrInviteMalformed, len(s.MeetingID), meetingtypes.MeetingIDSize)
	case len(s.Sig) != ed25519.SignatureSize:
		return nil, fmt.Errorf("%w: signature of %d bytes, want %d", ErrInviteMalformed, len(s.Sig), ed25519.SignatureSize)
	case s.AnchorHeight <= 0 || len(s.AnchorHash) != 32:
		return nil, fmt.Errorf("%w: trust anchor %d:%X", ErrInviteMalformed, s.AnchorHeight, s.AnchorHash)
	}
	s.PasscodeRequired = passcode == 1
	return s, nil
}

// payloadReader reads the payload's fields, remembering the first error.
type payloadReader struct {
	b   []byte
	err error
}

func (r *payloadReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = errors.New("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *payloadReader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *payloadReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *payloadReader) str() []byte {
	b := r.take(2)
	if b == nil {
		return nil
	}
	return bytes.Clone(r.take(int(binary.BigEndian.Uint16(b))))
}

// InviteChain is what verifying an invite needs of this client's chain
// access: its chain, its anchor, and proven reads.
type InviteChain interface {
	ChainID() string
	Anchor() verify.Anchor
	Reader() *verify.Reader
}

// VerifyInvite checks a signed invite before anything in it is used:
//
//  1. it is for the chain this client is on (ErrInviteChain);
//  2. it names the anchor this client verifies from, exactly
//     (ErrInviteAnchor, naming both; ErrInviteNoAnchor with how to adopt);
//  3. its signature verifies against the named device's key, read with a
//     proof (ErrInviteSignature), and that device is the meeting's leader,
//     also proven (ErrInviteNotLeader);
//  4. its schedule and passcode flag are the meeting's (ErrInviteMismatch).
//
// It returns the proven meeting. A legacy invite (no signature) is only
// checked for its chain: it states nothing that could be forged beyond
// what the chain then proves.
func VerifyInvite(ctx context.Context, c InviteChain, inv Invite) (meetingtypes.Meeting, error) {
	if inv.ChainID != "" && inv.ChainID != c.ChainID() {
		return meetingtypes.Meeting{}, fmt.Errorf("%w: it names chain %q, this client is on %q", ErrInviteChain, clip(inv.ChainID), c.ChainID())
	}
	s := inv.Signed
	if s == nil {
		return provenMeetingOn(ctx, c, inv.MeetingID)
	}
	if err := CheckInviteAnchor(c.ChainID(), c.Anchor(), s); err != nil {
		return meetingtypes.Meeting{}, err
	}
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return meetingtypes.Meeting{}, err
	}
	dev, err := snap.Device(ctx, s.LeaderUser, s.LeaderDevice)
	if err != nil {
		return meetingtypes.Meeting{}, fmt.Errorf("%w: device %s/%s: %v", ErrInviteSignature, clip(s.LeaderUser), clip(s.LeaderDevice), err)
	}
	if !ed25519.Verify(dev.Pubkey, meetingtypes.InviteSignBytes(s.InviteFields), s.Sig) {
		return meetingtypes.Meeting{}, fmt.Errorf("%w: it was changed, or not signed by %s/%s", ErrInviteSignature, s.LeaderUser, s.LeaderDevice)
	}
	if dev.RevokedHeight != 0 {
		return meetingtypes.Meeting{}, fmt.Errorf("%w: %s/%s was revoked at height %d", ErrInviteSignature, s.LeaderUser, s.LeaderDevice, dev.RevokedHeight)
	}
	m, err := snap.Meeting(ctx, s.MeetingID)
	if err != nil {
		return m, fmt.Errorf("meeting %x: %w", s.MeetingID, err)
	}
	if m.LeaderUser != s.LeaderUser || m.LeaderDevice != s.LeaderDevice {
		return m, fmt.Errorf("%w: signed by %s/%s, but the host of meeting %x is %s/%s (ask the host for a new invite)",
			ErrInviteNotLeader, s.LeaderUser, s.LeaderDevice, m.MeetingId, m.LeaderUser, m.LeaderDevice)
	}
	want := InviteFor(s.ChainID, m, verify.Anchor{Height: s.AnchorHeight, Hash: s.AnchorHash})
	if want.StartsAt != s.StartsAt || want.DurationSeconds != s.DurationSeconds || want.PasscodeRequired != s.PasscodeRequired {
		return m, fmt.Errorf("%w: it says start %d, duration %d s, passcode %v; the chain has %d, %d s, %v",
			ErrInviteMismatch, s.StartsAt, s.DurationSeconds, s.PasscodeRequired, want.StartsAt, want.DurationSeconds, want.PasscodeRequired)
	}
	return m, nil
}

// CheckInviteAnchor refuses a signed invite whose anchor is not exactly
// the client's (have; zero when the client has none yet). It never adopts
// the invite's anchor: a person does that with `parley trust init`.
func CheckInviteAnchor(chainID string, have verify.Anchor, s *SignedInvite) error {
	if have.Height == 0 {
		return fmt.Errorf("%w %s: the invite carries anchor %s; after comparing it with the inviter (out of band), adopt it with `parley trust init --invite LINK`, or set your own with `parley trust init`",
			ErrInviteNoAnchor, chainID, s.anchor())
	}
	if have.Height != s.AnchorHeight || !bytes.Equal(have.Hash, s.AnchorHash) {
		return fmt.Errorf("%w: the invite has %s, this client %s; compare both with the inviter out of band (one of you may be shown another chain)",
			ErrInviteAnchor, s.anchor(), have)
	}
	return nil
}

func provenMeetingOn(ctx context.Context, c InviteChain, id []byte) (meetingtypes.Meeting, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return meetingtypes.Meeting{}, err
	}
	m, err := snap.Meeting(ctx, id)
	if err != nil {
		return m, fmt.Errorf("meeting %x: %w", id, err)
	}
	return m, nil
}
