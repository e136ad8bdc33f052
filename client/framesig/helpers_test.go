package framesig

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

const (
	testChain = "parley-test"
	testEpoch = 3
)

var testMeeting = bytes.Repeat([]byte{0xAA}, MeetingIDSize)

// kidOf is client/sframe's KID of the member at sender index i in testEpoch.
func kidOf(i uint64) uint64 { return i<<8 | testEpoch%256 }

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyOf returns the device key whose seed is 32 bytes of b.
func keyOf(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// member is a sending device of the test roster.
type member struct {
	name string
	key  ed25519.PrivateKey
	kid  uint64
}

var (
	alice   = member{"alice", keyOf(0x01), kidOf(0)}
	bob     = member{"bob", keyOf(0x02), kidOf(1)}
	mallory = member{"mallory", keyOf(0x03), kidOf(2)}
)

// rosterOf resolves testEpoch's KIDs of ms to their device keys.
func rosterOf(ms ...member) KeyFor {
	keys := make(map[uint64]ed25519.PublicKey)
	for _, m := range ms {
		keys[m.kid] = m.key.Public().(ed25519.PublicKey)
	}
	return func(epoch, kid uint64) (ed25519.PublicKey, bool) {
		if epoch != testEpoch {
			return nil, false
		}
		k, ok := keys[kid]
		return k, ok
	}
}

func newTestSigner(t testing.TB, m member, clock *fakeClock, opts ...Option) *Signer {
	t.Helper()
	s, err := NewSigner(m.key, testChain, testMeeting, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestVerifier(t testing.TB, clock *fakeClock, keyFor KeyFor, opts ...Option) *Verifier {
	t.Helper()
	v, err := NewVerifier(testChain, testMeeting, keyFor, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// testFrame returns a frame unique to (kid, ctr, variant), of a length
// that varies with ctr like audio and video frames do.
func testFrame(kid, ctr uint64, variant byte) []byte {
	f := make([]byte, 20+ctr%7*150)
	binary.BigEndian.PutUint64(f, kid)
	binary.BigEndian.PutUint64(f[8:], ctr)
	f[16] = variant
	return f
}

// digestOf computes digest(frame) from the spec, independently of Digest.
func digestOf(frame []byte) [DigestSize]byte {
	sum := sha256.Sum256(append([]byte("parley/v1/frame"), frame...))
	return [DigestSize]byte(sum[:DigestSize])
}

// encodeMessage builds a message from the spec, independently of Signer,
// signed by key for chain and meeting.
func encodeMessage(key ed25519.PrivateKey, chain string, meeting []byte, epoch, kid, first uint64, digests ...[DigestSize]byte) []byte {
	var batch []byte
	batch = append(batch, 1)
	batch = binary.BigEndian.AppendUint64(batch, epoch)
	batch = binary.BigEndian.AppendUint64(batch, kid)
	batch = binary.BigEndian.AppendUint64(batch, first)
	batch = binary.BigEndian.AppendUint16(batch, uint16(len(digests)))
	for _, d := range digests {
		batch = append(batch, d[:]...)
	}
	signed := append([]byte("parley/v1/frame-sig"), byte(len(chain)))
	signed = append(signed, chain...)
	signed = append(signed, meeting...)
	signed = append(signed, batch...)
	return append(batch, ed25519.Sign(key, signed)...)
}

// decoded is a message as the spec reads it.
type decoded struct {
	epoch, kid, first uint64
	digests           [][DigestSize]byte
}

// decodeMessage reads msg by the spec and checks its signature by key.
func decodeMessage(t testing.TB, key ed25519.PrivateKey, msg []byte) decoded {
	t.Helper()
	if len(msg) < 27+64 {
		t.Fatalf("message of %d bytes", len(msg))
	}
	n := int(binary.BigEndian.Uint16(msg[25:27]))
	if msg[0] != 1 || len(msg) != 27+16*n+64 {
		t.Fatalf("message version %d, n = %d, %d bytes", msg[0], n, len(msg))
	}
	d := decoded{
		epoch: binary.BigEndian.Uint64(msg[1:9]),
		kid:   binary.BigEndian.Uint64(msg[9:17]),
		first: binary.BigEndian.Uint64(msg[17:25]),
	}
	for i := range n {
		d.digests = append(d.digests, [DigestSize]byte(msg[27+16*i:27+16*i+16]))
	}
	signed := append([]byte("parley/v1/frame-sig"), byte(len(testChain)))
	signed = append(signed, testChain...)
	signed = append(signed, testMeeting...)
	signed = append(signed, msg[:27+16*n]...)
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), signed, msg[27+16*n:]) {
		t.Fatalf("signature of batch epoch %d KID %d first %d does not verify", d.epoch, d.kid, d.first)
	}
	return d
}

// mustCut checks that (epoch, kid) is cut for a reason wrapping want.
func mustCut(t testing.TB, v *Verifier, epoch, kid uint64, want error) {
	t.Helper()
	reason, cut := v.Cut(epoch, kid)
	if !cut || !errors.Is(reason, want) {
		t.Fatalf("Cut(%d, %#x) = %v, %v; want cut for %v", epoch, kid, reason, cut, want)
	}
}

func mustNotCut(t testing.TB, v *Verifier, epoch, kid uint64) {
	t.Helper()
	if reason, cut := v.Cut(epoch, kid); cut {
		t.Fatalf("Cut(%d, %#x) = %v; want not cut", epoch, kid, reason)
	}
}

// mustSweep checks that Sweep returns exactly the cuts of want (KID →
// reason), all in testEpoch.
func mustSweep(t testing.TB, v *Verifier, want map[uint64]error) {
	t.Helper()
	got := v.Sweep()
	if len(got) != len(want) {
		t.Fatalf("Sweep = %v; want %d cuts %v", got, len(want), want)
	}
	for _, c := range got {
		w, ok := want[c.KID]
		if !ok || c.Epoch != testEpoch || !errors.Is(c.Reason, w) {
			t.Fatalf("Sweep = %v; want %v", got, want)
		}
	}
}

func mustVerdict(t testing.TB, got, want Verdict, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: verdict %v, want %v", what, got, want)
	}
}

func (d decoded) String() string {
	return fmt.Sprintf("{epoch %d KID %#x counters %d+%d}", d.epoch, d.kid, d.first, len(d.digests))
}
