package keystore

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestClose(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "alice", "laptop", nil)
	priv := k.secret.priv[:]
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	for i, b := range priv {
		if b != 0 {
			t.Fatalf("private key byte %d not zeroed", i)
		}
	}
	if sig := k.SignMessage([]byte("m")); sig != nil {
		t.Fatalf("SignMessage after Close = %x, want nil", sig)
	}
	if sig, err := k.Sign(nil, []byte("m"), crypto.Hash(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sign after Close = %x, %v, want ErrClosed", sig, err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(k.PublicKey()) != ed25519.PublicKeySize {
		t.Fatal("public key lost on Close")
	}
	var nilKey *DeviceKey
	if _, err := nilKey.Sign(nil, []byte("m"), crypto.Hash(0)); nilKey.SignMessage([]byte("m")) != nil || !errors.Is(err, ErrClosed) || nilKey.Close() != nil {
		t.Fatal("nil key")
	}
}

// TestSigner: as a crypto.Signer the key signs as ed25519.PrivateKey does,
// and SignMessage gives the same pure Ed25519 signature.
func TestSigner(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "alice", "laptop", nil)
	var signer crypto.Signer = k
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok || !pub.Equal(k.PublicKey()) {
		t.Fatalf("Public() = %T %x, want the ed25519.PublicKey %x", signer.Public(), signer.Public(), k.PublicKey())
	}
	msg := []byte("parley/v1/test")
	sig, err := signer.Sign(nil, msg, crypto.Hash(0))
	if err != nil || !ed25519.Verify(pub, msg, sig) {
		t.Fatalf("Sign: %x, %v", sig, err)
	}
	if !bytes.Equal(k.SignMessage(msg), sig) {
		t.Fatal("SignMessage differs from Sign with crypto.Hash(0)")
	}
	ctxOpts := &ed25519.Options{Context: "parley"}
	sig, err = signer.Sign(nil, msg, ctxOpts)
	if err != nil || ed25519.VerifyWithOptions(pub, msg, sig, ctxOpts) != nil {
		t.Fatalf("Sign with a context: %x, %v", sig, err)
	}
	if _, err := signer.Sign(nil, msg, crypto.SHA256); err == nil {
		t.Fatal("Sign with SHA-256 succeeded, want the error ed25519 gives")
	}
}

func TestPublicKeyIsACopy(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "alice", "laptop", nil)
	pub := k.PublicKey()
	pub[0] ^= 0xff
	if pub[0] == k.pub[0] {
		t.Fatal("PublicKey returned the key's own slice")
	}
}

func TestFormatHidesPrivateKey(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "alice", "laptop", nil)
	seed := k.secret.priv[:ed25519.SeedSize] // the rest is the public key
	secrets := []string{
		hex.EncodeToString(seed), strings.ToUpper(hex.EncodeToString(seed)),
		fmt.Sprint(seed[:4]), fmt.Sprintf("%#v", seed[:4]), fmt.Sprintf("%q", seed[:4]),
	}
	type holder struct {
		k DeviceKey
		p *DeviceKey
		s []any
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%p", "%t"} {
		for _, arg := range []any{k, *k, holder{*k, k, []any{k, *k}}, []*DeviceKey{k}, map[string]DeviceKey{"k": *k}} {
			out := fmt.Sprintf(verb, arg)
			for _, sec := range secrets {
				if strings.Contains(out, strings.Trim(sec, "[]{}")) {
					t.Fatalf("fmt %s of %T reveals private material: %s", verb, arg, out)
				}
			}
		}
	}
	want := "DeviceKey(alice/laptop " + hex.EncodeToString(k.pub) + ")"
	if got := k.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprint(k); got != want {
		t.Errorf("Sprint = %q, want %q", got, want)
	}
}
