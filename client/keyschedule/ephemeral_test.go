package keyschedule

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestEphemeralKeyRoundTrip(t *testing.T) {
	k, err := GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey().Bytes()
	if len(pub) != EphemeralPublicKeySize {
		t.Fatalf("public key is %d bytes, want %d", len(pub), EphemeralPublicKeySize)
	}
	pk, err := ParseEphemeralPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pk.Bytes(), pub) {
		t.Fatal("parsed public key re-encodes differently")
	}

	priv, err := EphemeralPrivateKeyBytes(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(priv) != EphemeralPrivateKeySize {
		t.Fatalf("private key is %d bytes, want %d", len(priv), EphemeralPrivateKeySize)
	}
	k2, err := ParseEphemeralPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k2.PublicKey().Bytes(), pub) {
		t.Fatal("re-imported private key has another public key")
	}

	// The exported bytes are a copy: clearing them must not break the key.
	clear(priv)
	again, err := EphemeralPrivateKeyBytes(k)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, priv) {
		t.Fatal("EphemeralPrivateKeyBytes aliases the key's seed")
	}

	if h := EphemeralKeyHash(pub); h != sha256.Sum256(pub) {
		t.Fatalf("EphemeralKeyHash = %x, want SHA-256 of the public key", h)
	}
}

func TestParseEphemeralKeyErrors(t *testing.T) {
	k, err := GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey().Bytes()
	// An ML-KEM coefficient of 0xfff is >= q and must be rejected.
	badPQ := append([]byte(nil), pub...)
	badPQ[0], badPQ[1] = 0xff, 0x0f

	tests := []struct {
		name  string
		parse func() error
	}{
		{"empty public key", func() error { _, err := ParseEphemeralPublicKey(nil); return err }},
		{"short public key", func() error { _, err := ParseEphemeralPublicKey(pub[:len(pub)-1]); return err }},
		{"long public key", func() error { _, err := ParseEphemeralPublicKey(append(pub, 0)); return err }},
		{"X25519 key alone", func() error { _, err := ParseEphemeralPublicKey(pub[1184:]); return err }},
		{"non-canonical ML-KEM key", func() error { _, err := ParseEphemeralPublicKey(badPQ); return err }},
		{"empty private key", func() error { _, err := ParseEphemeralPrivateKey(nil); return err }},
		{"short private key", func() error { _, err := ParseEphemeralPrivateKey(make([]byte, 31)); return err }},
		{"expanded private key", func() error { _, err := ParseEphemeralPrivateKey(make([]byte, 2400)); return err }},
		{"export nil key", func() error { _, err := EphemeralPrivateKeyBytes(nil); return err }},
		{"export X25519-only key", func() error {
			dh, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			_, err = EphemeralPrivateKeyBytes(dh)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func FuzzParseEphemeralPublicKey(f *testing.F) {
	_, members := testMembers(f, 2)
	f.Add(members[0].PublicKey)
	f.Add(members[1].PublicKey[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParseEphemeralPublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("accepted key re-encodes differently")
		}
	})
}
