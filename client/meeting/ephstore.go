package meeting

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleynet/parley/client/keyschedule"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// EphStore keeps this device's ephemeral private keys, one per meeting
// and, after a rotation (RotateEphKey), its successor until Promote,
// under <Dir>/<meeting_id_hex>/<user>@<device>.eph (and .eph.next), mode
// 0600, encrypted as the device key's own: with AES-256-GCM under
//
//	k = HKDF-SHA256(ikm = Ed25519 signature of the device over
//	    meetingtypes.EphAtRestSignBytes(meeting_id, user, device),
//	    salt = "", info = "parley/v1/meeting/eph-at-rest", 32 bytes)
//
// (Ed25519 signatures are deterministic, so the device derives the same k
// each time, and only a holder of the device key can), in the file layout
//
//	"PEK1" ‖ nonce[12] ‖ AES-256-GCM(k, nonce, private key, aad = "PEK1" ‖ the sign bytes above)
//
// A file without the "PEK1" magic is read as an unencrypted key (written
// by an earlier version) and rewritten encrypted when replaced.
type EphStore struct{ Dir string }

const ephMagic = "PEK1"

func (s EphStore) path(meetingID []byte, d Device) string {
	return filepath.Join(s.Dir, hex.EncodeToString(meetingID), d.UserID+"@"+d.DeviceID+".eph")
}

func (s EphStore) nextPath(meetingID []byte, d Device) string { return s.path(meetingID, d) + ".next" }

// atRest derives the key that encrypts d's ephemeral keys of a meeting.
func atRest(meetingID []byte, d Device) (cipher.AEAD, []byte, error) {
	ad := meetingtypes.EphAtRestSignBytes(meetingID, d.UserID, d.DeviceID)
	sig := d.Key.SignMessage(ad)
	defer clear(sig)
	k, err := hkdf.Key(sha256.New, sig, nil, meetingtypes.DomainEphAtRest, 32)
	if err != nil {
		return nil, nil, err
	}
	defer clear(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	return aead, append([]byte(ephMagic), ad...), err
}

// EphKey is a fresh ephemeral key not yet stored: it is saved only
// once the chain accepted it, so a rejected request never replaces the key
// of the request that stands.
type EphKey struct {
	store     EphStore
	meetingID []byte
	dev       Device
	priv      hpke.PrivateKey
}

// New makes a fresh ephemeral key for the meeting; Save stores it.
func (s EphStore) New(meetingID []byte, d Device) (*EphKey, error) {
	priv, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		return nil, err
	}
	return &EphKey{store: s, meetingID: meetingID, dev: d, priv: priv}, nil
}

// Public returns the key's public half.
func (k *EphKey) Public() []byte { return k.priv.PublicKey().Bytes() }

// Private returns the key itself.
func (k *EphKey) Private() hpke.PrivateKey { return k.priv }

// Save stores the private key, replacing the device's previous one.
func (k *EphKey) Save() error { return k.write(k.store.path(k.meetingID, k.dev)) }

// SaveNext stores the private key as the successor of the device's
// current one, which it leaves in place: after a rotation the current
// epoch is still sealed to the old key. Promote makes it current;
// LoadNext reads it. A later SaveNext replaces an unpromoted successor.
func (k *EphKey) SaveNext() error {
	return k.write(k.store.nextPath(k.meetingID, k.dev))
}

func (k *EphKey) write(p string) error {
	raw, err := keyschedule.EphemeralPrivateKeyBytes(k.priv)
	if err != nil {
		return err
	}
	defer clear(raw)
	aead, ad, err := atRest(k.meetingID, k.dev)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := append(append([]byte(ephMagic), nonce...), aead.Seal(nil, nonce, raw, ad)...)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (s EphStore) read(p string, meetingID []byte, d Device, what string) (hpke.PrivateKey, error) {
	bz, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s of %s/%s for meeting %x: %w", what, d.UserID, d.DeviceID, meetingID, err)
	}
	if !bytes.HasPrefix(bz, []byte(ephMagic)) {
		return keyschedule.ParseEphemeralPrivateKey(bz) // written unencrypted by an earlier version
	}
	aead, ad, err := atRest(meetingID, d)
	if err != nil {
		return nil, err
	}
	body := bz[len(ephMagic):]
	if len(body) < aead.NonceSize() {
		return nil, fmt.Errorf("%s of %s/%s for meeting %x: truncated file", what, d.UserID, d.DeviceID, meetingID)
	}
	raw, err := aead.Open(nil, body[:aead.NonceSize()], body[aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("%s of %s/%s for meeting %x: does not decrypt with this device's key (tampered, or another device's)", what, d.UserID, d.DeviceID, meetingID)
	}
	defer clear(raw)
	return keyschedule.ParseEphemeralPrivateKey(raw)
}

// Load reads this device's ephemeral private key for the meeting.
func (s EphStore) Load(meetingID []byte, d Device) (hpke.PrivateKey, error) {
	return s.read(s.path(meetingID, d), meetingID, d, "ephemeral key")
}

// LoadNext reads the successor key saved by SaveNext.
func (s EphStore) LoadNext(meetingID []byte, d Device) (hpke.PrivateKey, error) {
	return s.read(s.nextPath(meetingID, d), meetingID, d, "next ephemeral key")
}

// Promote makes the successor key the device's current one, replacing
// (and so erasing) the old key.
func (s EphStore) Promote(meetingID []byte, d Device) error {
	return os.Rename(s.nextPath(meetingID, d), s.path(meetingID, d))
}

// Erase deletes the meeting's ephemeral keys of this device, a successor
// included.
func (s EphStore) Erase(meetingID []byte, d Device) error {
	for _, p := range []string{s.path(meetingID, d), s.nextPath(meetingID, d)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
