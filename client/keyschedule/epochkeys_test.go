package keyschedule

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, MeetingKeySize) }

func TestEpochKeysLifecycle(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := NewEpochKeys(WithClock(clock.now))

	if _, _, err := s.Current(); !errors.Is(err, ErrUnknownEpoch) {
		t.Fatalf("Current() on an empty store = %v, want ErrUnknownEpoch", err)
	}
	if err := s.Install(1, key(1)); err != nil {
		t.Fatal(err)
	}
	internal1 := s.keys[1].key
	if err := s.Install(2, key(2)); err != nil {
		t.Fatal(err)
	}

	// Inside the grace window both keys are there.
	clock.advance(DefaultGrace - time.Millisecond)
	if n := s.Sweep(); n != 0 {
		t.Fatalf("Sweep() inside the grace window erased %d keys", n)
	}
	if got, err := s.Get(1); err != nil || !bytes.Equal(got, key(1)) {
		t.Fatalf("Get(1) in grace = %x, %v", got, err)
	}
	epoch, cur, err := s.Current()
	if err != nil || epoch != 2 || !bytes.Equal(cur, key(2)) {
		t.Fatalf("Current() = %d, %x, %v; want epoch 2", epoch, cur, err)
	}

	// At the deadline epoch 1 goes, and its memory is zeroed.
	clock.advance(time.Millisecond)
	if n := s.Sweep(); n != 1 {
		t.Fatalf("Sweep() at the deadline erased %d keys, want 1", n)
	}
	if !bytes.Equal(internal1, make([]byte, MeetingKeySize)) {
		t.Fatalf("erased key memory still holds %x", internal1)
	}
	if _, err := s.Get(1); !errors.Is(err, ErrKeyErased) {
		t.Fatalf("Get(1) after erasure = %v, want ErrKeyErased", err)
	}
	if _, err := s.Get(99); !errors.Is(err, ErrUnknownEpoch) {
		t.Fatalf("Get(99) = %v, want ErrUnknownEpoch", err)
	}
	if _, err := s.Get(2); err != nil {
		t.Fatalf("Get(current) = %v", err)
	}

	// Going back, or replacing the current key, is refused; a duplicate is not.
	if err := s.Install(1, key(1)); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("Install(1) again = %v, want ErrStaleEpoch", err)
	}
	if err := s.Install(2, key(9)); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("Install(2) with another key = %v, want ErrStaleEpoch", err)
	}
	if err := s.Install(2, key(2)); err != nil {
		t.Fatalf("Install(2) with the same key = %v, want nil", err)
	}

	// Meeting end: everything is zeroed and the store refuses new keys.
	internal2 := s.keys[2].key
	s.EraseAll()
	if !bytes.Equal(internal2, make([]byte, MeetingKeySize)) {
		t.Fatalf("EraseAll left %x", internal2)
	}
	if _, _, err := s.Current(); !errors.Is(err, ErrKeyErased) {
		t.Fatalf("Current() after EraseAll = %v, want ErrKeyErased", err)
	}
	if _, err := s.Get(2); !errors.Is(err, ErrKeyErased) {
		t.Fatalf("Get(2) after EraseAll = %v, want ErrKeyErased", err)
	}
	if err := s.Install(3, key(3)); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("Install after EraseAll = %v, want ErrStoreClosed", err)
	}
}

func TestEpochKeysErasure(t *testing.T) {
	tests := []struct {
		name     string
		grace    time.Duration
		installs []uint64         // epochs installed, one per step
		step     time.Duration    // clock advance after each install
		after    time.Duration    // further advance before the checks
		sweep    bool             // call Sweep explicitly, else rely on Get's lazy sweep
		want     map[uint64]error // per epoch: nil (held) or the Get error
	}{
		{
			name: "previous epoch held within grace", grace: time.Second,
			installs: []uint64{1, 2}, after: 999 * time.Millisecond,
			want: map[uint64]error{1: nil, 2: nil},
		},
		{
			name: "previous epoch erased by Sweep after grace", grace: time.Second,
			installs: []uint64{1, 2}, after: time.Second, sweep: true,
			want: map[uint64]error{1: ErrKeyErased, 2: nil},
		},
		{
			name: "Get erases an expired key without Sweep", grace: time.Second,
			installs: []uint64{1, 2}, after: 2 * time.Second,
			want: map[uint64]error{1: ErrKeyErased, 2: nil},
		},
		{
			name: "zero grace erases at install", grace: 0,
			installs: []uint64{1, 2},
			want:     map[uint64]error{1: ErrKeyErased, 2: nil},
		},
		{
			name: "each superseded key keeps its own deadline", grace: time.Second,
			installs: []uint64{1, 2, 3}, step: 600 * time.Millisecond,
			// 1 superseded at 0.6 s (erased at 1.6 s), 2 at 1.2 s (erased at 2.2 s); now 1.8 s.
			want: map[uint64]error{1: ErrKeyErased, 2: nil, 3: nil},
		},
		{
			name: "skipped epochs are unknown", grace: time.Second,
			installs: []uint64{1, 5}, after: time.Second,
			want: map[uint64]error{1: ErrKeyErased, 3: ErrUnknownEpoch, 5: nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(0, 0)}
			s := NewEpochKeys(WithClock(clock.now), WithGrace(tt.grace))
			defer s.EraseAll()
			for _, e := range tt.installs {
				if err := s.Install(e, key(byte(e))); err != nil {
					t.Fatal(err)
				}
				clock.advance(tt.step)
			}
			clock.advance(tt.after)
			if tt.sweep {
				s.Sweep()
			}
			for e, wantErr := range tt.want {
				got, err := s.Get(e)
				if !errors.Is(err, wantErr) {
					t.Fatalf("Get(%d) = %v, want %v", e, err, wantErr)
				}
				if err == nil && !bytes.Equal(got, key(byte(e))) {
					t.Fatalf("Get(%d) = %x", e, got)
				}
			}
		})
	}
}

func TestEpochKeysReturnsCopies(t *testing.T) {
	s := NewEpochKeys()
	defer s.EraseAll()
	k := key(7)
	if err := s.Install(1, k); err != nil {
		t.Fatal(err)
	}
	clear(k) // the caller clears its copy after installing
	got, err := s.Get(1)
	if err != nil || !bytes.Equal(got, key(7)) {
		t.Fatalf("Get(1) = %x, %v after the caller cleared its key", got, err)
	}
	clear(got)
	if _, cur, _ := s.Current(); !bytes.Equal(cur, key(7)) {
		t.Fatal("clearing a returned key changed the store")
	}
	if err := s.Install(2, key(1)[:31]); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Install of a short key = %v, want ErrInvalidArgument", err)
	}
}

// TestEpochKeysAutoSweep uses the real clock with a tiny grace window: the
// timer must erase the old key with nobody calling into the store.
func TestEpochKeysAutoSweep(t *testing.T) {
	s := NewEpochKeys(WithGrace(time.Millisecond), WithAutoSweep())
	defer s.EraseAll()
	if err := s.Install(1, key(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Install(2, key(2)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		_, held := s.keys[1]
		s.mu.Unlock()
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("epoch 1 still held 5 s after its 1 ms grace window")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEpochKeysConcurrentUse(t *testing.T) {
	s := NewEpochKeys(WithGrace(0))
	defer s.EraseAll()
	if err := s.Install(0, key(0)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for e := uint64(1); e <= 200; e++ {
			if err := s.Install(e, key(byte(e))); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 200 {
				e, k, err := s.Current()
				if err != nil || !bytes.Equal(k, key(byte(e))) {
					t.Errorf("Current() = %d, %x, %v", e, k, err)
					return
				}
				s.Sweep()
			}
		})
	}
	wg.Wait()
}
