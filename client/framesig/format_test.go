package framesig

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// hexBytes decodes a JSON hex string.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

type knownAnswer struct {
	Description string     `json:"description"`
	Seed        hexBytes   `json:"seed"`
	PublicKey   hexBytes   `json:"public_key"`
	ChainID     string     `json:"chain_id"`
	MeetingID   hexBytes   `json:"meeting_id"`
	Epoch       uint64     `json:"epoch"`
	KID         uint64     `json:"kid"`
	FirstCtr    uint64     `json:"first_ctr"`
	Frames      []hexBytes `json:"frames"`
	Digests     []hexBytes `json:"digests"`
	Signed      hexBytes   `json:"signed"`
	Message     hexBytes   `json:"message"`
}

func loadKnownAnswer(t testing.TB) knownAnswer {
	t.Helper()
	raw, err := os.ReadFile("testdata/known-answer.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ka knownAnswer
	if err := dec.Decode(&ka); err != nil {
		t.Fatal(err)
	}
	return ka
}

// TestKnownAnswer checks that the Signer reproduces the recorded message
// byte for byte, and checks the recorded bytes themselves from the spec
// with crypto/sha256 and crypto/ed25519 alone, so that a change to both
// the code and the file is caught too.
func TestKnownAnswer(t *testing.T) {
	ka := loadKnownAnswer(t)
	if !bytes.Equal(ka.Seed, bytes.Repeat([]byte{0x01}, 32)) || ka.ChainID != "parley-test" ||
		!bytes.Equal(ka.MeetingID, bytes.Repeat([]byte{0xAA}, 16)) || ka.Epoch != 3 || ka.KID != 0x0203 || ka.FirstCtr != 7 ||
		len(ka.Frames) != 2 || string(ka.Frames[0]) != "hello" || string(ka.Frames[1]) != "world" || len(ka.Digests) != 2 {
		t.Fatalf("known-answer inputs changed: %+v", ka)
	}
	key := ed25519.NewKeyFromSeed(ka.Seed)
	if !bytes.Equal(key.Public().(ed25519.PublicKey), ka.PublicKey) {
		t.Fatalf("public key %x, file says %x", key.Public(), ka.PublicKey)
	}

	// The spec, computed by hand.
	var batch []byte
	batch = append(batch, 1)
	batch = binary.BigEndian.AppendUint64(batch, ka.Epoch)
	batch = binary.BigEndian.AppendUint64(batch, ka.KID)
	batch = binary.BigEndian.AppendUint64(batch, ka.FirstCtr)
	batch = binary.BigEndian.AppendUint16(batch, 2)
	for i, f := range ka.Frames {
		sum := sha256.Sum256(append([]byte("parley/v1/frame"), f...))
		if !bytes.Equal(sum[:16], ka.Digests[i]) {
			t.Fatalf("digest %d: SHA-256 gives %x, file says %x", i, sum[:16], ka.Digests[i])
		}
		if d := Digest(f); !bytes.Equal(d[:], ka.Digests[i]) {
			t.Fatalf("Digest(%q) = %x, want %x", f, d, ka.Digests[i])
		}
		batch = append(batch, sum[:16]...)
	}
	signed := append([]byte("parley/v1/frame-sig"), byte(len(ka.ChainID)))
	signed = append(signed, ka.ChainID...)
	signed = append(signed, ka.MeetingID...)
	signed = append(signed, batch...)
	if !bytes.Equal(signed, ka.Signed) {
		t.Fatalf("signed bytes\n%x\nfile says\n%x", signed, ka.Signed)
	}
	if !bytes.Equal(ka.Message[:len(batch)], batch) || len(ka.Message) != len(batch)+64 {
		t.Fatalf("message %x does not start with the batch %x", ka.Message, batch)
	}
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), signed, ka.Message[len(batch):]) {
		t.Fatal("recorded signature does not verify")
	}

	// The Signer reproduces it (Ed25519 is deterministic).
	clock := newFakeClock()
	s, err := NewSigner(key, ka.ChainID, ka.MeetingID, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ka.Frames {
		clock.Advance(20 * time.Millisecond)
		if msg, err := s.Add(ka.Epoch, ka.KID, ka.FirstCtr+uint64(i), f); msg != nil || err != nil {
			t.Fatalf("Add = %x, %v", msg, err)
		}
	}
	msg, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg, ka.Message) {
		t.Fatalf("Signer gives\n%x\nwant\n%x", msg, ka.Message)
	}

	// And the Verifier takes it.
	v, err := NewVerifier(ka.ChainID, ka.MeetingID, func(epoch, kid uint64) (ed25519.PublicKey, bool) {
		return key.Public().(ed25519.PublicKey), epoch == ka.Epoch && kid == ka.KID
	}, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ka.Frames {
		mustVerdict(t, v.Frame(ka.Epoch, ka.KID, ka.FirstCtr+uint64(i), f), Pending, "frame")
	}
	if err := v.Message(ka.Message); err != nil {
		t.Fatal(err)
	}
	if st := v.Stats(); st.Verified != 2 || st.Pending != 0 {
		t.Fatalf("stats %+v; want both frames verified", st)
	}
}
