package sframe

import (
	"bytes"
	"testing"
)

// The exported key material must encrypt exactly as the Sender does: a
// frame sealed with a Key built from it opens in a Keyring of the epoch.
func TestSenderKeyMaterialMatchesSender(t *testing.T) {
	mk := bytes.Repeat([]byte{7}, MeetingKeySize)
	kid, key, salt, err := SenderKeyMaterial(DefaultSuite, mk, 2, 300)
	if err != nil {
		t.Fatal(err)
	}
	if kid != SenderKID(2, 300) || len(key) != 32 || len(salt) != 12 {
		t.Fatalf("kid %d key %d salt %d", kid, len(key), len(salt))
	}
	base, err := SenderBaseKey(mk, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := DefaultSuite.params()
	d, err := derive(DefaultSuite, p, kid, base)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.key, key) || !bytes.Equal(d.salt, salt) {
		t.Fatal("exported key material differs from the derivation the Sender uses")
	}
	if _, _, _, err := SenderKeyMaterial(CipherSuite(0x99), mk, 0, 1); err == nil {
		t.Fatal("unknown suite accepted")
	}
	if _, _, _, err := SenderKeyMaterial(DefaultSuite, mk[:5], 0, 1); err == nil {
		t.Fatal("short meeting key accepted")
	}
}
