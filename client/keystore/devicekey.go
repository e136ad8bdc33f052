package keystore

import (
	"crypto"
	"crypto/ed25519"
	"fmt"
	"io"
	"sync"
)

// DeviceKey is a device's Ed25519 key pair, loaded into memory. It is a
// crypto.Signer, so it can be handed to code that signs with any key (the
// key schedule, the call engine). It is safe for concurrent use. Printing
// it with fmt shows only the user, device and public key.
type DeviceKey struct {
	UserID   string
	DeviceID string
	pub      ed25519.PublicKey

	// secret sits behind a pointer so that copies of a DeviceKey share
	// one private key, which Close wipes for all of them.
	secret *secretKey
}

type secretKey struct {
	mu sync.RWMutex
	// priv is a second pointer so that fmt's reflection never reaches the
	// bytes: even printing a struct that holds a DeviceKey in an
	// unexported field (where Format is not called) with a verb that is
	// bad for pointers shows the inner pointer as an address. nil once
	// closed.
	priv *[ed25519.PrivateKeySize]byte
}

// newDeviceKey builds a DeviceKey from a 32-byte seed. The seed is not
// retained; the caller still clears it.
func newDeviceKey(userID, deviceID string, seed []byte) *DeviceKey {
	full := ed25519.NewKeyFromSeed(seed)
	defer clear(full)
	priv := new([ed25519.PrivateKeySize]byte)
	copy(priv[:], full)
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	copy(pub, full[ed25519.SeedSize:])
	return &DeviceKey{
		UserID:   userID,
		DeviceID: deviceID,
		pub:      pub,
		secret:   &secretKey{priv: priv},
	}
}

// SignMessage signs msg with the device key (pure Ed25519, RFC 8032).
// Callers pass domain-separated sign bytes. After Close, SignMessage
// returns nil, which no verifier accepts.
func (k *DeviceKey) SignMessage(msg []byte) []byte {
	sig, err := k.Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		return nil
	}
	return sig
}

// Sign implements crypto.Signer as ed25519.PrivateKey does: opts of
// crypto.Hash(0) signs msg itself (pure Ed25519), and *ed25519.Options
// selects the other variants. rand is ignored. After Close it fails with
// ErrClosed.
func (k *DeviceKey) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k == nil || k.secret == nil {
		return nil, ErrClosed
	}
	k.secret.mu.RLock()
	defer k.secret.mu.RUnlock()
	if k.secret.priv == nil {
		return nil, ErrClosed
	}
	return ed25519.PrivateKey(k.secret.priv[:]).Sign(rand, msg, opts)
}

// Public implements crypto.Signer: a copy of the device's public key, as
// an ed25519.PublicKey.
func (k *DeviceKey) Public() crypto.PublicKey { return k.PublicKey() }

// PublicKey returns a copy of the device's public key.
func (k *DeviceKey) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.pub...)
}

// Close zeroes the private key in memory (best effort: the Go runtime may
// have copied it, and the OS may have swapped it out). Close is idempotent.
func (k *DeviceKey) Close() error {
	k.wipe()
	return nil
}

func (k *DeviceKey) wipe() {
	if k == nil || k.secret == nil {
		return
	}
	k.secret.mu.Lock()
	defer k.secret.mu.Unlock()
	if k.secret.priv != nil {
		clear(k.secret.priv[:])
		k.secret.priv = nil
	}
}

// Format prints the key's public identity, whatever the verb, so that no
// format string can reveal private material. Its receiver is a value so
// that it covers both DeviceKey and *DeviceKey (fmt prints a nil
// *DeviceKey as <nil>).
func (k DeviceKey) Format(f fmt.State, _ rune) {
	fmt.Fprint(f, k.String())
}

// String returns "DeviceKey(<user>/<device> <public key hex>)".
func (k DeviceKey) String() string {
	return fmt.Sprintf("DeviceKey(%s/%s %x)", k.UserID, k.DeviceID, []byte(k.pub))
}

var _ crypto.Signer = (*DeviceKey)(nil)
