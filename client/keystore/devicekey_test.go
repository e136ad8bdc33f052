package keystore

import (
	"crypto/ed25519"
	"encoding/hex"
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
	if sig := k.Sign([]byte("m")); sig != nil {
		t.Fatalf("Sign after Close = %x, want nil", sig)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(k.PublicKey()) != ed25519.PublicKeySize {
		t.Fatal("public key lost on Close")
	}
	var nilKey *DeviceKey
	if nilKey.Sign([]byte("m")) != nil || nilKey.Close() != nil {
		t.Fatal("nil key")
	}
}

func TestPublicKeyIsACopy(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "alice", "laptop", nil)
	pub := k.PublicKey()
	pub[0] ^= 0xff
	if pub[0] == k.Public[0] {
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
	want := "DeviceKey(alice/laptop " + hex.EncodeToString(k.Public) + ")"
	if got := k.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprint(k); got != want {
		t.Errorf("Sprint = %q, want %q", got, want)
	}
}
