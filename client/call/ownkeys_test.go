package call

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/parleynet/parley/client/keyschedule"
)

// TestOwnKeysOpenSignalsAfterRotation: a signal sealed to the device's new
// ephemeral key opens once SetOwnKeys gave it, and one sealed to the
// previous key still opens while it is given too; a key it no longer holds
// opens nothing.
func TestOwnKeysOpenSignalsAfterRotation(t *testing.T) {
	oldKey, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	_, signer, _ := ed25519.GenerateKey(rand.Reader)
	id := make([]byte, 16)
	e := &Engine{cfg: Config{EphemeralKey: oldKey, ChainID: "parley-test", MeetingID: id}}
	seal := func(to []byte) []byte {
		pk, err := keyschedule.ParseEphemeralPublicKey(to)
		if err != nil {
			t.Fatal(err)
		}
		s := Signal{Kind: KindBye, FromUser: "bob", FromDevice: "phone", ToUser: "alice", ToDevice: "laptop", MeetingID: id, Epoch: 1, Session: SessionID{1}, Seq: 1}
		body, err := SealSignal(&s, "parley-test", signer, pk)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	toNew, toOld := seal(newKey.PublicKey().Bytes()), seal(oldKey.PublicKey().Bytes())
	if _, err := e.openInbound(toNew); err == nil {
		t.Fatal("a signal sealed to a key the engine was not given opened")
	}
	if err := e.SetOwnKeys(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	if _, err := e.openInbound(toNew); err != nil {
		t.Fatalf("sealed to the new key: %v", err)
	}
	if _, err := e.openInbound(toOld); err != nil {
		t.Fatalf("sealed to the previous key while it is given: %v", err)
	}
	if err := e.SetOwnKeys(newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := e.openInbound(toOld); err == nil {
		t.Fatal("a signal sealed to a dropped key opened")
	}
	if err := e.SetOwnKeys(); err == nil {
		t.Fatal("no keys accepted")
	}
}
