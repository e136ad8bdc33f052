package keyschedule

import (
	"crypto/hpke"
	"crypto/sha256"
	"fmt"
)

// Sizes of ephemeral keys and of what HPKE produces with them.
const (
	// EphemeralPublicKeySize is the MLKEM768-X25519 public key as hpke
	// serialises it: ML-KEM-768 encapsulation key (1184) || X25519 point (32).
	EphemeralPublicKeySize = 1216
	// EphemeralPrivateKeySize is the MLKEM768-X25519 private key as hpke
	// serialises it: the 32-byte seed both halves are expanded from.
	EphemeralPrivateKeySize = 32
	// KeyHashSize is the size of EphemeralKeyHash.
	KeyHashSize = sha256.Size
)

// The HPKE suite of envelope version 1: KEM MLKEM768-X25519 (0x647a), KDF
// HKDF-SHA256 (0x0001), AEAD AES-256-GCM (0x0002), base mode.
var (
	kem  = hpke.MLKEM768X25519()
	kdf  = hpke.HKDFSHA256()
	aead = hpke.AES256GCM()
)

// GenerateEphemeralKey returns a fresh MLKEM768-X25519 key pair. A device
// makes one per meeting it joins and publishes PrivateKey.PublicKey().Bytes()
// in its join request.
func GenerateEphemeralKey() (hpke.PrivateKey, error) {
	k, err := kem.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("keyschedule: generate ephemeral key: %w", err)
	}
	return k, nil
}

// ParseEphemeralPublicKey parses public key bytes as published on chain
// (hpke.PublicKey.Bytes of an MLKEM768-X25519 key).
func ParseEphemeralPublicKey(b []byte) (hpke.PublicKey, error) {
	if len(b) != EphemeralPublicKeySize {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalidKey, len(b), EphemeralPublicKeySize)
	}
	pk, err := kem.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrInvalidKey, err)
	}
	return pk, nil
}

// ParseEphemeralPrivateKey parses private key bytes from
// EphemeralPrivateKeyBytes.
func ParseEphemeralPrivateKey(b []byte) (hpke.PrivateKey, error) {
	if len(b) != EphemeralPrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrInvalidKey, len(b), EphemeralPrivateKeySize)
	}
	k, err := kem.NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrInvalidKey, err)
	}
	return k, nil
}

// EphemeralPrivateKeyBytes returns a copy of the private key's 32-byte seed,
// for keeping the key across a restart. The caller owns the copy and should
// clear it when done.
func EphemeralPrivateKeyBytes(k hpke.PrivateKey) ([]byte, error) {
	if err := checkKEM(k); err != nil {
		return nil, err
	}
	seed, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrInvalidKey, err)
	}
	// hpke returns its own seed slice; never hand it out.
	return append([]byte(nil), seed...), nil
}

// EphemeralKeyHash is SHA-256 of the public key bytes: the recipient ID of
// the mailbox and of envelopes.
func EphemeralKeyHash(pub []byte) [KeyHashSize]byte {
	return sha256.Sum256(pub)
}

func checkKEM(k hpke.PrivateKey) error {
	if k == nil {
		return fmt.Errorf("%w: private key is nil", ErrInvalidKey)
	}
	if id := k.KEM().ID(); id != kem.ID() {
		return fmt.Errorf("%w: private key is for KEM 0x%04x, want MLKEM768-X25519 (0x%04x)", ErrInvalidKey, id, kem.ID())
	}
	return nil
}
