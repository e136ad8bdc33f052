package framesig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// step is one Add: a frame sealed under (epoch, kid, ctr) after the clock
// moved by advance.
type step struct {
	epoch, kid, ctr uint64
	advance         time.Duration
}

// run feeds steps to s and returns, for every message, the index of the
// Add that returned it (len(steps) for the final Flush) and its contents,
// checking each against the frames given under its counters.
func run(t *testing.T, s *Signer, clock *fakeClock, m member, steps []step) (at []int, msgs []decoded) {
	t.Helper()
	type key struct{ epoch, kid, ctr uint64 }
	frames := make(map[key][]byte)
	check := func(i int, msg []byte) {
		d := decodeMessage(t, m.key, msg)
		for j, dg := range d.digests {
			f, ok := frames[key{d.epoch, d.kid, d.first + uint64(j)}]
			if !ok || dg != digestOf(f) {
				t.Fatalf("message %v: digest %d is not of the frame added under counter %d", d, j, d.first+uint64(j))
			}
		}
		at, msgs = append(at, i), append(msgs, d)
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		f := testFrame(st.kid, st.ctr, byte(st.epoch))
		frames[key{st.epoch, st.kid, st.ctr}] = f
		msg, err := s.Add(st.epoch, st.kid, st.ctr, f)
		if err != nil {
			t.Fatal(err)
		}
		if msg != nil {
			check(i, msg)
		}
	}
	msg, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if msg != nil {
		check(len(steps), msg)
	}
	if msg, err := s.Flush(); msg != nil || err != nil {
		t.Fatalf("second Flush = %x, %v; want nothing", msg, err)
	}
	return at, msgs
}

// contiguous returns n steps of one (epoch, kid) from counter first, the
// clock moving by advance before each.
func contiguous(epoch, kid, first uint64, n int, advance time.Duration) []step {
	s := make([]step, n)
	for i := range s {
		s[i] = step{epoch, kid, first + uint64(i), advance}
	}
	return s
}

// want is an expected message: returned by Add number at (or the final
// Flush), covering n counters from first under (epoch, kid).
type want struct {
	at                int
	epoch, kid, first uint64
	n                 int
}

func TestSignerSplitsBatches(t *testing.T) {
	k, k2 := alice.kid, bob.kid
	cases := []struct {
		name  string
		opts  []Option
		steps []step
		want  []want
	}{{
		// 50 fps: frame i comes at 20i ms; the batch is due at the first
		// frame 250 ms or more after its first, and includes it.
		name:  "interval",
		steps: contiguous(testEpoch, k, 0, 30, 20*time.Millisecond),
		want:  []want{{13, testEpoch, k, 0, 14}, {27, testEpoch, k, 14, 14}, {30, testEpoch, k, 28, 2}},
	}, {
		name:  "interval exactly",
		opts:  []Option{WithInterval(100 * time.Millisecond)},
		steps: contiguous(testEpoch, k, 0, 5, 50*time.Millisecond),
		want:  []want{{2, testEpoch, k, 0, 3}, {5, testEpoch, k, 3, 2}},
	}, {
		name:  "MaxBatch",
		steps: contiguous(testEpoch, k, 0, 1200, 0),
		want:  []want{{511, testEpoch, k, 0, 512}, {1023, testEpoch, k, 512, 512}, {1200, testEpoch, k, 1024, 176}},
	}, {
		name:  "WithMaxBatch",
		opts:  []Option{WithMaxBatch(12)},
		steps: contiguous(testEpoch, k, 100, 30, 0),
		want:  []want{{11, testEpoch, k, 100, 12}, {23, testEpoch, k, 112, 12}, {30, testEpoch, k, 124, 6}},
	}, {
		name:  "WithMaxBatch 1",
		opts:  []Option{WithMaxBatch(1)},
		steps: append(contiguous(testEpoch, k, 0, 2, 0), step{testEpoch, k2, 0, 0}),
		want:  []want{{0, testEpoch, k, 0, 1}, {1, testEpoch, k, 1, 1}, {2, testEpoch, k2, 0, 1}},
	}, {
		name:  "KID change",
		steps: append(contiguous(testEpoch, k, 0, 5, 0), contiguous(testEpoch, k2, 5, 3, 0)...),
		want:  []want{{5, testEpoch, k, 0, 5}, {8, testEpoch, k2, 5, 3}},
	}, {
		name:  "epoch change",
		steps: append(contiguous(testEpoch, k, 40, 5, 0), contiguous(testEpoch+1, k+1, 0, 3, 0)...),
		want:  []want{{5, testEpoch, k, 40, 5}, {8, testEpoch + 1, k + 1, 0, 3}},
	}, {
		name:  "counter gap",
		steps: append(contiguous(testEpoch, k, 0, 5, 0), contiguous(testEpoch, k, 10, 3, 0)...),
		want:  []want{{5, testEpoch, k, 0, 5}, {8, testEpoch, k, 10, 3}},
	}, {
		name:  "counter back",
		steps: append(contiguous(testEpoch, k, 5, 5, 0), contiguous(testEpoch, k, 0, 3, 0)...),
		want:  []want{{5, testEpoch, k, 5, 5}, {8, testEpoch, k, 0, 3}},
	}, {
		name:  "counter repeated",
		steps: append(contiguous(testEpoch, k, 0, 3, 0), step{testEpoch, k, 2, 0}),
		want:  []want{{3, testEpoch, k, 0, 3}, {4, testEpoch, k, 2, 1}},
	}, {
		// A batch never wraps past the last counter.
		name:  "counter wraps",
		steps: append(contiguous(testEpoch, k, math.MaxUint64-1, 2, 0), contiguous(testEpoch, k, 0, 2, 0)...),
		want:  []want{{2, testEpoch, k, math.MaxUint64 - 1, 2}, {4, testEpoch, k, 0, 2}},
	}, {
		name:  "gap closes the batch before the interval does",
		steps: []step{{testEpoch, k, 0, 0}, {testEpoch, k, 1, 100 * time.Millisecond}, {testEpoch, k, 5, 200 * time.Millisecond}, {testEpoch, k, 6, 0}},
		want:  []want{{2, testEpoch, k, 0, 2}, {4, testEpoch, k, 5, 2}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			s := newTestSigner(t, alice, clock, c.opts...)
			at, got := run(t, s, clock, alice, c.steps)
			if len(got) != len(c.want) {
				t.Fatalf("messages %v at %v; want %v", got, at, c.want)
			}
			for i, w := range c.want {
				g := got[i]
				if at[i] != w.at || g.epoch != w.epoch || g.kid != w.kid || g.first != w.first || len(g.digests) != w.n {
					t.Fatalf("message %d: %v at step %d; want %+v", i, g, at[i], w)
				}
			}
		})
	}
}

func TestNewSignerRefuses(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		key     crypto.Signer
		chain   string
		meeting []byte
		opts    []Option
	}{
		{"nil key", nil, testChain, testMeeting, nil},
		{"ECDSA key", ecKey, testChain, testMeeting, nil},
		{"empty chain ID", alice.key, "", testMeeting, nil},
		{"chain ID of 256 bytes", alice.key, strings.Repeat("c", 256), testMeeting, nil},
		{"meeting ID of 15 bytes", alice.key, testChain, testMeeting[:15], nil},
		{"meeting ID of 17 bytes", alice.key, testChain, append(testMeeting, 0), nil},
		{"zero interval", alice.key, testChain, testMeeting, []Option{WithInterval(0)}},
		{"batch limit 0", alice.key, testChain, testMeeting, []Option{WithMaxBatch(0)}},
		{"batch limit 513", alice.key, testChain, testMeeting, []Option{WithMaxBatch(MaxBatch + 1)}},
		{"nil clock", alice.key, testChain, testMeeting, []Option{WithClock(nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, err := NewSigner(c.key, c.chain, c.meeting, c.opts...); !errors.Is(err, ErrInvalidArgument) || s != nil {
				t.Fatalf("NewSigner = %v, %v; want ErrInvalidArgument", s, err)
			}
		})
	}
	if _, err := NewSigner(alice.key, strings.Repeat("c", 255), testMeeting); err != nil {
		t.Fatalf("chain ID of 255 bytes: %v", err)
	}
}

// brokenSigner is a device key whose signing fails, or gives a short
// signature.
type brokenSigner struct {
	ed25519Key crypto.Signer
	short      bool
}

func (b brokenSigner) Public() crypto.PublicKey { return b.ed25519Key.Public() }

func (b brokenSigner) Sign(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if b.short {
		return make([]byte, 10), nil
	}
	return nil, errors.New("token unplugged")
}

func TestSignerSigningFails(t *testing.T) {
	for _, short := range []bool{false, true} {
		clock := newFakeClock()
		s, err := NewSigner(brokenSigner{alice.key, short}, testChain, testMeeting, WithClock(clock.Now), WithMaxBatch(2))
		if err != nil {
			t.Fatal(err)
		}
		if msg, err := s.Add(testEpoch, alice.kid, 0, []byte("a")); msg != nil || err != nil {
			t.Fatalf("first Add = %x, %v", msg, err)
		}
		if msg, err := s.Add(testEpoch, alice.kid, 1, []byte("b")); !errors.Is(err, ErrSigning) || msg != nil {
			t.Fatalf("short %v: Add = %x, %v; want ErrSigning", short, msg, err)
		}
		// The failed batch is closed; the next frame starts a new one.
		if msg, err := s.Flush(); msg != nil || err != nil {
			t.Fatalf("Flush after failure = %x, %v; want nothing open", msg, err)
		}
	}
}
