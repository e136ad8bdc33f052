package types

import (
	"bytes"
	"crypto/ed25519"

	"cosmossdk.io/errors"
	"filippo.io/edwards25519"

	"github.com/parleynet/parley/internal/ids"
)

// ValidateUserID checks a user ID against the allowed pattern.
func ValidateUserID(field, id string) error {
	if !ids.ValidUser(id) {
		return errors.Wrapf(ErrInvalidUserID, "%s %q: want "+ids.UserRule, field, id)
	}
	return nil
}

// ValidateDeviceID checks a device ID against the allowed pattern.
func ValidateDeviceID(field, id string) error {
	if !ids.ValidDevice(id) {
		return errors.Wrapf(ErrInvalidDeviceID, "%s %q: want "+ids.DeviceRule, field, id)
	}
	return nil
}

// ValidatePubKey checks that key is a 32-byte Ed25519 public key that
// decodes to a curve point and is not of small order (such keys let a
// signature verify for many messages).
func ValidatePubKey(field string, key []byte) error {
	if len(key) != ed25519.PublicKeySize {
		return errors.Wrapf(ErrInvalidPubKey, "%s: want %d bytes, got %d", field, ed25519.PublicKeySize, len(key))
	}
	p, err := new(edwards25519.Point).SetBytes(key)
	if err != nil {
		return errors.Wrapf(ErrInvalidPubKey, "%s: not a valid Ed25519 point", field)
	}
	// RFC 8032 5.1.3: an encoding of y >= p must be rejected; otherwise one
	// point would have two byte strings and could be bound to two devices.
	if !bytes.Equal(p.Bytes(), key) {
		return errors.Wrapf(ErrInvalidPubKey, "%s: non-canonical point encoding", field)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.Wrapf(ErrInvalidPubKey, "%s: small-order point", field)
	}
	return nil
}

// VerifySignature checks an Ed25519 signature over msg by key; field names
// the message field that carried the signature.
func VerifySignature(field string, key, msg, sig []byte) error {
	if len(sig) != ed25519.SignatureSize {
		return errors.Wrapf(ErrInvalidSignature, "%s: want %d bytes, got %d", field, ed25519.SignatureSize, len(sig))
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, sig) {
		return errors.Wrapf(ErrInvalidSignature, "%s: does not verify", field)
	}
	return nil
}
