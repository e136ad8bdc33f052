package sframe

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// rewriteHeader re-encodes the header found after a p-byte prefix.
// TestKeyringRejects covers every way a receiver drops a frame.
// TestShortFrames checks frames shorter than their prefix, down to empty:
// they travel whole in the clear, and the receiver still finds the split.
func TestEpochSwitchAndGrace(t *testing.T) {
	s, r, clock := newPairClock(t, 2)
	old := mustEncrypt(t, s, CodecOpus, opusFrame)
	oldLate := mustEncrypt(t, s, CodecOpus, opusFrame)
	oldLater := mustEncrypt(t, s, CodecOpus, opusFrame)
	prevKey := r.cur.senders[1].key

	mk2 := bytes.Repeat([]byte{0x42}, MeetingKeySize)
	if err := s.SetEpoch(testEpoch+1, mk2, 0); err != nil {
		t.Fatal(err)
	}
	cur := mustEncrypt(t, s, CodecOpus, opusFrame)
	if _, err := r.Decrypt(nil, CodecOpus, cur); !errors.Is(err, ErrNoKey) {
		t.Fatalf("frame of an epoch not yet received = %v, want ErrNoKey", err)
	}
	if err := r.SetEpoch(testEpoch+1, mk2, 2); err != nil {
		t.Fatal(err)
	}
	if e, ok := r.Epoch(); !ok || e != testEpoch+1 {
		t.Fatalf("Epoch = %d, %v", e, ok)
	}
	if _, err := r.Decrypt(nil, CodecOpus, cur); err != nil {
		t.Fatalf("current epoch: %v", err)
	}
	// Counters restart with the new KID: CTR 0 again, not a replay.
	if h, _, _ := ParseHeader(cur[1:]); h.CTR != 0 || h.KID != SenderKID(0, testEpoch+1) {
		t.Fatalf("new epoch header %+v", h)
	}

	clock.Advance(DefaultGrace - time.Millisecond)
	if r.Sweep() {
		t.Fatal("Sweep erased inside the grace window")
	}
	if _, err := r.Decrypt(nil, CodecOpus, old); err != nil {
		t.Fatalf("previous epoch inside grace: %v", err)
	}
	if _, err := r.Decrypt(nil, CodecOpus, old); !errors.Is(err, ErrReplay) {
		t.Fatalf("previous epoch replay: %v", err)
	}

	clock.Advance(time.Millisecond)
	if _, err := r.Decrypt(nil, CodecOpus, oldLate); !errors.Is(err, ErrNoKey) {
		t.Fatalf("previous epoch after grace = %v, want ErrNoKey", err)
	}
	if !isZero(prevKey.salt[:]) || prevKey.aead != nil {
		t.Fatal("previous epoch's key not erased after grace")
	}
	if _, err := r.Decrypt(nil, CodecOpus, oldLater); !errors.Is(err, ErrNoKey) {
		t.Fatalf("erased epoch = %v, want ErrNoKey", err)
	}
	if r.Sweep() {
		t.Fatal("Sweep erased twice")
	}
}

func TestSweepErasesWithoutFrames(t *testing.T) {
	_, r, clock := newPairClock(t, 2)
	prevKey := r.cur.senders[0].key
	if err := r.SetEpoch(testEpoch+1, testMK, 2); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultGrace)
	if !r.Sweep() {
		t.Fatal("Sweep did not erase after grace")
	}
	if !isZero(prevKey.salt[:]) || prevKey.aead != nil {
		t.Fatal("key not erased")
	}
}

func TestPreviousEpochDroppedAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		next  uint64
		erase bool
	}{
		{"zero grace", []Option{WithGrace(0)}, testEpoch + 1, true},
		{"negative grace", []Option{WithGrace(-time.Second)}, testEpoch + 1, true},
		{"same KID byte 256 epochs on", nil, testEpoch + 256, true},
		{"default grace keeps it", nil, testEpoch + 1, false},
		{"a later epoch keeps it", nil, testEpoch + 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newPair(t, 2, tt.opts...)
			prev := r.cur
			if err := r.SetEpoch(tt.next, bytes.Repeat([]byte{9}, MeetingKeySize), 2); err != nil {
				t.Fatal(err)
			}
			if prev.erased != tt.erase {
				t.Fatalf("previous epoch erased = %v, want %v", prev.erased, tt.erase)
			}
		})
	}
}

func TestOlderEpochErasedOnSecondSwitch(t *testing.T) {
	s, r := newPair(t, 2)
	wire := mustEncrypt(t, s, CodecOpus, opusFrame)
	first := r.cur
	for _, e := range []uint64{testEpoch + 1, testEpoch + 2} {
		if err := r.SetEpoch(e, testMK, 2); err != nil {
			t.Fatal(err)
		}
	}
	if !first.erased || first.senders != nil {
		t.Fatal("epoch two switches back is not erased")
	}
	if _, err := r.Decrypt(nil, CodecOpus, wire); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Decrypt = %v, want ErrNoKey", err)
	}
}

func TestKeyringSetEpochRejects(t *testing.T) {
	tests := []struct {
		name   string
		epoch  uint64
		mk     []byte
		roster int
		want   error
	}{
		{"same epoch", testEpoch, testMK, 2, ErrStaleEpoch},
		{"older epoch", testEpoch - 1, testMK, 2, ErrStaleEpoch},
		{"short meeting key", testEpoch + 1, testMK[:31], 2, ErrInvalidArgument},
		{"long meeting key", testEpoch + 1, append(testMK, 0), 2, ErrInvalidArgument},
		{"empty roster", testEpoch + 1, testMK, 0, ErrInvalidArgument},
		{"roster too large", testEpoch + 1, testMK, MaxRosterSize + 1, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newPair(t, 2)
			if err := r.SetEpoch(tt.epoch, tt.mk, tt.roster); !errors.Is(err, tt.want) {
				t.Fatalf("SetEpoch = %v, want %v", err, tt.want)
			}
			if e, _ := r.Epoch(); e != testEpoch {
				t.Fatalf("epoch moved to %d", e)
			}
		})
	}
}

func TestKeyringNoEpoch(t *testing.T) {
	s, _ := newPair(t, 2)
	r, err := NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Epoch(); ok {
		t.Fatal("Epoch reports one before SetEpoch")
	}
	if _, err := r.Decrypt(nil, CodecOpus, mustEncrypt(t, s, CodecOpus, opusFrame)); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Decrypt = %v, want ErrNoKey", err)
	}
}

func TestKeyringEraseAll(t *testing.T) {
	s, r := newPair(t, 2)
	wire := mustEncrypt(t, s, CodecOpus, opusFrame)
	prev := r.cur
	if err := r.SetEpoch(testEpoch+1, testMK, 2); err != nil {
		t.Fatal(err)
	}
	cur := r.cur
	keys := []*Key{prev.senders[0].key, prev.senders[1].key, cur.senders[0].key, cur.senders[1].key}
	r.EraseAll()
	for i, k := range keys {
		if !isZero(k.salt[:]) || k.aead != nil {
			t.Errorf("key %d not erased", i)
		}
	}
	if _, err := r.Decrypt(nil, CodecOpus, wire); !errors.Is(err, ErrNoKey) {
		t.Errorf("Decrypt after EraseAll = %v, want ErrNoKey", err)
	}
	if err := r.SetEpoch(testEpoch+2, testMK, 2); !errors.Is(err, ErrClosed) {
		t.Errorf("SetEpoch after EraseAll = %v, want ErrClosed", err)
	}
}

func TestAutoSweep(t *testing.T) {
	r, err := NewKeyring(WithAutoSweep(), WithGrace(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.EraseAll()
	if err := r.SetEpoch(1, testMK, 1); err != nil {
		t.Fatal(err)
	}
	prevKey := r.cur.senders[0].key
	if err := r.SetEpoch(2, testMK, 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.RLock()
		erased := r.prev.erased
		r.mu.RUnlock()
		if erased {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timer did not erase the previous epoch")
		}
		time.Sleep(time.Millisecond)
	}
	if !isZero(prevKey.salt[:]) {
		t.Fatal("key not cleared")
	}
}

// TestKeyringConcurrent delivers every frame exactly once while several
// goroutines race to decrypt the same frames.
func TestNewKeyringRejectsSuite(t *testing.T) {
	if _, err := NewKeyring(WithSuite(0x0042)); !errors.Is(err, ErrUnsupportedSuite) {
		t.Fatalf("NewKeyring = %v", err)
	}
	if _, err := NewSender(WithSuite(0)); !errors.Is(err, ErrUnsupportedSuite) {
		t.Fatalf("NewSender = %v", err)
	}
}
