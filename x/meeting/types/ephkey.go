package types

import (
	"crypto/hpke"
	"crypto/sha256"

	"cosmossdk.io/errors"
)

// EphKeySize is the length of a hybrid ML-KEM-768 + X25519 public key as
// crypto/hpke's MLKEM768X25519 encodes it (1184 + 32 bytes).
const EphKeySize = 1216

// ValidateEphKey checks that key is an MLKEM768X25519 public key that parses.
func ValidateEphKey(field string, key []byte) error {
	if len(key) != EphKeySize {
		return errors.Wrapf(ErrInvalidEphKey, "%s: want %d bytes, got %d", field, EphKeySize, len(key))
	}
	if _, err := hpke.MLKEM768X25519().NewPublicKey(key); err != nil {
		return errors.Wrapf(ErrInvalidEphKey, "%s: does not parse as MLKEM768X25519: %v", field, err)
	}
	return nil
}

// EphKeyHash is SHA-256 of an ephemeral public key; it is the mailbox
// recipient ID and the roster's record of the key.
func EphKeyHash(key []byte) []byte {
	h := sha256.Sum256(key)
	return h[:]
}
