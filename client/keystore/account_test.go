package keystore

import (
	"bytes"
	"errors"
	"testing"
)

func TestAccountKeyIsStableAndPerDevice(t *testing.T) {
	s := newTestStore(t)
	a := mustCreate(t, s, "alice", "laptop", []byte("pass phrase"))
	b := mustCreate(t, s, "alice", "phone", []byte("pass phrase"))
	ka, err := a.AccountKey()
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Load("alice", "laptop", []byte("pass phrase"))
	if err != nil {
		t.Fatal(err)
	}
	ka2, err := again.AccountKey()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ka.Bytes(), ka2.Bytes()) {
		t.Fatal("the account key changed when the device key was loaded again")
	}
	kb, err := b.AccountKey()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ka.Bytes(), kb.Bytes()) {
		t.Fatal("two devices derived the same account key")
	}
	if bytes.Equal(ka.Bytes(), a.secret.priv[:32]) {
		t.Fatal("the account key is the device seed")
	}
	sig, err := ka.Sign([]byte("tx"))
	if err != nil || !ka.PubKey().VerifySignature([]byte("tx"), sig) {
		t.Fatalf("account key does not sign: %v", err)
	}
	a.Close()
	if _, err := a.AccountKey(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}
