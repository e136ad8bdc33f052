package sframe

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

var (
	opusFrame     = append([]byte{0x78}, bytes.Repeat([]byte("opus"), 15)[:59]...)
	vp8KeyFrame   = append([]byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, bytes.Repeat([]byte("key"), 40)...)
	vp8DeltaFrame = append([]byte{0x31, 0x23, 0x00}, bytes.Repeat([]byte("delta"), 20)...)
)

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
