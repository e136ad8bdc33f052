package meeting

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleynet/parley/client/keyschedule"
)

// edKey is a device key without a keystore: the embedded private key
// makes it a crypto.Signer.
type edKey struct{ ed25519.PrivateKey }

func (k edKey) SignMessage(m []byte) []byte  { return ed25519.Sign(k.PrivateKey, m) }
func (k edKey) PublicKey() ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func newEdKey(t *testing.T) edKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return edKey{priv}
}

// TestEphKeysAtRestAreEncrypted: the file never holds the private key in
// the clear, only the device that wrote it reads it back, a tampered file
// is refused, and a key written unencrypted by an earlier version loads.
func TestEphKeysAtRestAreEncrypted(t *testing.T) {
	st := EphStore{Dir: t.TempDir()}
	id := bytes.Repeat([]byte{7}, 16)
	dev := Device{UserID: "bob", DeviceID: "phone", Key: newEdKey(t)}
	k, err := st.New(id, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	raw, _ := keyschedule.EphemeralPrivateKeyBytes(k.Private())
	file, err := os.ReadFile(st.path(id, dev))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, raw) || bytes.Contains(file, raw[:16]) {
		t.Fatal("the private key is in the file in the clear")
	}
	back, err := st.Load(id, dev)
	if err != nil || !bytes.Equal(back.PublicKey().Bytes(), k.Public()) {
		t.Fatalf("load: %v", err)
	}
	other := Device{UserID: "bob", DeviceID: "phone", Key: newEdKey(t)}
	if _, err := st.Load(id, other); err == nil {
		t.Fatal("another device key read the file")
	}
	file[len(file)-1] ^= 1
	if err := os.WriteFile(st.path(id, dev), file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(id, dev); err == nil {
		t.Fatal("a tampered file was accepted")
	}
	// A key an earlier version wrote unencrypted still loads.
	if err := os.WriteFile(filepath.Join(st.Dir, "legacy.eph"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.read(filepath.Join(st.Dir, "legacy.eph"), id, dev, "key"); err != nil {
		t.Fatalf("legacy key: %v", err)
	}
}
