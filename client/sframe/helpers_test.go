package sframe

import (
	"sync"
	"testing"
	"time"
)

const testEpoch = 7

// testMK is the meeting key 00 01 … 1f.
var testMK = func() []byte {
	b := make([]byte, MeetingKeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

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

// newPair returns the sender of member 1 and a receiver's keyring, both
// at testEpoch with a roster of rosterSize, the keyring on a fake clock.
func newPair(t testing.TB, rosterSize int, opts ...Option) (*Sender, *Keyring) {
	s, r, _ := newPairClock(t, rosterSize, opts...)
	return s, r
}

func newPairClock(t testing.TB, rosterSize int, opts ...Option) (*Sender, *Keyring, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	s, err := NewSender(opts...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewKeyring(append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEpoch(testEpoch, testMK, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.SetEpoch(testEpoch, testMK, rosterSize); err != nil {
		t.Fatal(err)
	}
	return s, r, clock
}

func mustEncrypt(t testing.TB, s *Sender, codec Codec, frame []byte) []byte {
	t.Helper()
	wire, err := s.Encrypt(nil, codec, frame)
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// isZero reports whether b is all zeros.
func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
