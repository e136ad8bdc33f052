package sframe

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var (
	opusFrame     = append([]byte{0x78}, bytes.Repeat([]byte("opus"), 15)[:59]...)
	vp8KeyFrame   = append([]byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, bytes.Repeat([]byte("key"), 40)...)
	vp8DeltaFrame = append([]byte{0x31, 0x23, 0x00}, bytes.Repeat([]byte("delta"), 20)...)
)

// rewriteHeader re-encodes the header found after a p-byte prefix.
func rewriteHeader(t *testing.T, wire []byte, p int, f func(Header) Header) []byte {
	t.Helper()
	h, hl, err := ParseHeader(wire[p:])
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), wire[:p]...)
	out = f(h).Append(out)
	return append(out, wire[p+hl:]...)
}

func flipAt(wire []byte, i int) []byte {
	b := bytes.Clone(wire)
	b[i] ^= 0x01
	return b
}

func TestKeyringRoundTrip(t *testing.T) {
	s, r := newPair(t, 3)
	for _, tt := range []struct {
		name  string
		codec Codec
		frame []byte
	}{
		{"opus", CodecOpus, opusFrame},
		{"vp8 key", CodecVP8, vp8KeyFrame},
		{"vp8 delta", CodecVP8, vp8DeltaFrame},
		{"large vp8", CodecVP8, bytes.Repeat([]byte{0x51}, 10240)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wire := mustEncrypt(t, s, tt.codec, tt.frame)
			if len(wire) != len(tt.frame)+DefaultSuite.TagSize()+3 {
				t.Errorf("wire is %d bytes for a %d-byte frame", len(wire), len(tt.frame))
			}
			got, err := r.Decrypt([]byte("dst:"), tt.codec, wire)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte("dst:"), tt.frame...)) {
				t.Errorf("Decrypt = %x", got)
			}
		})
	}
}

// TestKeyringRejects covers every way a receiver drops a frame.
func TestKeyringRejects(t *testing.T) {
	s, r := newPair(t, 3)
	opus := mustEncrypt(t, s, CodecOpus, opusFrame)     // prefix 1, header 3 (KID 0x107, CTR 0)
	key := mustEncrypt(t, s, CodecVP8, vp8KeyFrame)     // prefix 10, header 3 (CTR 1)
	delta := mustEncrypt(t, s, CodecVP8, vp8DeltaFrame) // prefix 3, header 3 (CTR 2)
	replayed := mustEncrypt(t, s, CodecOpus, opusFrame)
	if _, err := r.Decrypt(nil, CodecOpus, replayed); err != nil {
		t.Fatal(err)
	}
	withKID := func(wire []byte, p int, kid uint64) []byte {
		return rewriteHeader(t, wire, p, func(h Header) Header { h.KID = kid; return h })
	}

	tests := []struct {
		name  string
		codec Codec
		wire  []byte
		want  error
	}{
		{"tampered ciphertext", CodecOpus, flipAt(opus, 1+3+10), ErrAuthFailed},
		{"tampered tag", CodecOpus, flipAt(opus, len(opus)-1), ErrAuthFailed},
		{"tampered opus prefix", CodecOpus, flipAt(opus, 0), ErrAuthFailed},
		{"tampered vp8 key-frame prefix", CodecVP8, flipAt(key, 4), ErrAuthFailed},
		{"tampered vp8 delta prefix", CodecVP8, flipAt(delta, 2), ErrAuthFailed},
		{"vp8 key-frame bit flipped", CodecVP8, flipAt(key, 0), ErrNoKey},
		{"vp8 delta-frame bit flipped", CodecVP8, flipAt(delta, 0), ErrNoKey},
		{"tampered header CTR", CodecOpus, flipAt(opus, 1), ErrAuthFailed},
		{"tampered header KID epoch byte", CodecOpus, flipAt(opus, 3), ErrNoKey},
		{"header names another member", CodecOpus, withKID(opus, 1, SenderKID(2, testEpoch)), ErrAuthFailed},
		{"sender outside roster", CodecOpus, withKID(opus, 1, SenderKID(3, testEpoch)), ErrUnknownKID},
		{"sender far outside roster", CodecOpus, withKID(opus, 1, SenderKID(1<<31, testEpoch)), ErrUnknownKID},
		{"unknown epoch", CodecOpus, withKID(opus, 1, SenderKID(1, testEpoch+1)), ErrNoKey},
		{"non-minimal header", CodecOpus, append([]byte{opus[0], 0x98, 0x00, 0x01, 0x07}, opus[4:]...), ErrMalformed},
		{"replay", CodecOpus, replayed, ErrReplay},
		{"empty", CodecOpus, nil, ErrMalformed},
		{"prefix only", CodecVP8, key[:10], ErrMalformed},
		{"header cut", CodecVP8, key[:12], ErrMalformed},
		{"tag cut", CodecOpus, opus[:1+3+15], ErrMalformed},
		{"last byte cut", CodecOpus, opus[:len(opus)-1], ErrAuthFailed},
		{"decrypted as the wrong codec", CodecOpus, delta, ErrNoKey},
		{"unsupported codec", Codec(0), opus, ErrUnsupportedCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := r.Stats()
			out, err := r.Decrypt(nil, tt.codec, tt.wire)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt = %v, want %v", err, tt.want)
			}
			if out != nil {
				t.Errorf("returned %x alongside an error", out)
			}
			after := r.Stats()
			if after.Dropped() != before.Dropped()+1 || after.Decrypted != before.Decrypted {
				t.Errorf("stats %+v -> %+v: want one more drop", before, after)
			}
		})
	}
	// None of the rejects moved a window: the honest frames still decrypt.
	for _, w := range []struct {
		c    Codec
		wire []byte
	}{{CodecOpus, opus}, {CodecVP8, key}, {CodecVP8, delta}} {
		if _, err := r.Decrypt(nil, w.c, w.wire); err != nil {
			t.Errorf("honest frame after rejects: %v", err)
		}
	}
}

func TestKeyringStats(t *testing.T) {
	s, r := newPair(t, 2)
	wire := mustEncrypt(t, s, CodecOpus, opusFrame)
	forged := flipAt(mustEncrypt(t, s, CodecOpus, opusFrame), 10)
	for _, w := range [][]byte{wire, wire, forged, nil, rewriteHeader(t, wire, 1, func(h Header) Header { h.KID = SenderKID(5, testEpoch); return h })} {
		_, _ = r.Decrypt(nil, CodecOpus, w)
	}
	_, _ = r.Decrypt(nil, Codec(7), wire)
	want := StatsSnapshot{Decrypted: 1, Replayed: 1, AuthFailed: 1, Malformed: 1, UnknownKID: 1, Other: 1}
	if got := r.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if want.Dropped() != 5 {
		t.Fatalf("Dropped = %d", want.Dropped())
	}
}

// TestShortFrames checks frames shorter than their prefix, down to empty:
// they travel whole in the clear, and the receiver still finds the split.
func TestShortFrames(t *testing.T) {
	for _, suite := range []CipherSuite{DefaultSuite, AES128CTRHMACSHA256Tag32} {
		s, r := newPair(t, 2, WithSuite(suite))
		for _, tt := range []struct {
			codec Codec
			first byte
		}{{CodecVP8, 0x50}, {CodecVP8, 0x51}, {CodecOpus, 0x78}, {CodecOpus, 0x00}} {
			for n := 0; n <= 12; n++ {
				frame := bytes.Repeat([]byte{0xee}, n)
				if n > 0 {
					frame[0] = tt.first
				}
				t.Run(fmt.Sprintf("%v/%v/first=%#x/len=%d", suite, tt.codec, tt.first, n), func(t *testing.T) {
					wire := mustEncrypt(t, s, tt.codec, frame)
					p := tt.codec.PrefixLen(frame)
					if !bytes.Equal(wire[:p], frame[:p]) {
						t.Fatalf("prefix %x, frame %x", wire[:p], frame)
					}
					got, err := r.Decrypt(nil, tt.codec, wire)
					if err != nil || !bytes.Equal(got, frame) {
						t.Fatalf("Decrypt = %x, %v; want %x", got, err, frame)
					}
					if _, err := r.Decrypt(nil, tt.codec, wire); !errors.Is(err, ErrReplay) {
						t.Fatalf("replay = %v, want ErrReplay", err)
					}
				})
			}
		}
	}
}

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
func TestKeyringConcurrent(t *testing.T) {
	s, r := newPair(t, 2)
	var wires [][]byte
	for range 200 {
		wires = append(wires, mustEncrypt(t, s, CodecOpus, opusFrame))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	delivered := 0
	for range 4 {
		wg.Go(func() {
			for _, w := range wires {
				if _, err := r.Decrypt(nil, CodecOpus, w); err == nil {
					mu.Lock()
					delivered++
					mu.Unlock()
				} else if !errors.Is(err, ErrReplay) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if delivered != len(wires) {
		t.Fatalf("delivered %d of %d", delivered, len(wires))
	}
}

func TestKeyringInPlace(t *testing.T) {
	s, r := newPair(t, 2)
	wire := mustEncrypt(t, s, CodecVP8, vp8KeyFrame)
	got, err := r.Decrypt(wire[:0], CodecVP8, wire)
	if err != nil || !bytes.Equal(got, vp8KeyFrame) {
		t.Fatalf("Decrypt in place = %x, %v", got, err)
	}
}

func TestNewKeyringRejectsSuite(t *testing.T) {
	if _, err := NewKeyring(WithSuite(0x0042)); !errors.Is(err, ErrUnsupportedSuite) {
		t.Fatalf("NewKeyring = %v", err)
	}
	if _, err := NewSender(WithSuite(0)); !errors.Is(err, ErrUnsupportedSuite) {
		t.Fatalf("NewSender = %v", err)
	}
}
