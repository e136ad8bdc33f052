package sframe

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
)

func headerOf(t *testing.T, wire []byte, p int) Header {
	t.Helper()
	h, _, err := ParseHeader(wire[p:])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSenderCounters(t *testing.T) {
	s, _ := newPair(t, 2)
	if kid, ok := s.KID(); !ok || kid != SenderKID(1, testEpoch) {
		t.Fatalf("KID = %d, %v", kid, ok)
	}
	for want := range uint64(20) {
		if h := headerOf(t, mustEncrypt(t, s, CodecOpus, opusFrame), 1); h.CTR != want || h.KID != SenderKID(1, testEpoch) {
			t.Fatalf("frame %d: header %+v", want, h)
		}
	}
	if err := s.SetEpoch(testEpoch+1, testMK, 4); err != nil {
		t.Fatal(err)
	}
	if h := headerOf(t, mustEncrypt(t, s, CodecOpus, opusFrame), 1); h.CTR != 0 || h.KID != SenderKID(4, testEpoch+1) {
		t.Fatalf("after SetEpoch: header %+v", h)
	}
}

func TestSenderCounterExhausted(t *testing.T) {
	s, r := newPair(t, 2)
	s.cur.next.Store(math.MaxUint64 - 1)
	wire := mustEncrypt(t, s, CodecOpus, opusFrame)
	if h := headerOf(t, wire, 1); h.CTR != math.MaxUint64-1 {
		t.Fatalf("CTR %d", h.CTR)
	}
	if _, err := r.Decrypt(nil, CodecOpus, wire); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Encrypt(nil, CodecOpus, opusFrame); !errors.Is(err, ErrCounterExhausted) {
			t.Fatalf("Encrypt = %v, want ErrCounterExhausted", err)
		}
	}
}

func TestSenderRejects(t *testing.T) {
	fresh := func() *Sender {
		s, err := NewSender()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	set := func() *Sender {
		s := fresh()
		if err := s.SetEpoch(testEpoch, testMK, 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	erased := func() *Sender {
		s := set()
		s.EraseAll()
		return s
	}
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"encrypt before SetEpoch", func() error { _, err := fresh().Encrypt(nil, CodecOpus, opusFrame); return err }, ErrNoKey},
		{"encrypt after EraseAll", func() error { _, err := erased().Encrypt(nil, CodecOpus, opusFrame); return err }, ErrClosed},
		{"unsupported codec", func() error { _, err := set().Encrypt(nil, Codec(3), opusFrame); return err }, ErrUnsupportedCodec},
		{"same epoch", func() error { return set().SetEpoch(testEpoch, testMK, 0) }, ErrStaleEpoch},
		{"older epoch", func() error { return set().SetEpoch(testEpoch-1, testMK, 0) }, ErrStaleEpoch},
		{"short meeting key", func() error { return fresh().SetEpoch(1, testMK[:16], 0) }, ErrInvalidArgument},
		{"SetEpoch after EraseAll", func() error { return erased().SetEpoch(testEpoch+1, testMK, 0) }, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSenderErasesOldKey(t *testing.T) {
	s, _ := newPair(t, 2)
	old := s.cur.key
	if err := s.SetEpoch(testEpoch+1, testMK, 1); err != nil {
		t.Fatal(err)
	}
	if !isZero(old.salt[:]) || old.aead != nil {
		t.Fatal("old key not erased on SetEpoch")
	}
	cur := s.cur.key
	s.EraseAll()
	if !isZero(cur.salt[:]) || cur.aead != nil {
		t.Fatal("key not erased on EraseAll")
	}
	if _, ok := s.KID(); ok {
		t.Fatal("KID after EraseAll")
	}
}

func TestSenderInPlace(t *testing.T) {
	s, r := newPair(t, 2)
	buf := make([]byte, len(vp8KeyFrame), 4096)
	copy(buf, vp8KeyFrame)
	wire, err := s.Encrypt(buf[:0], CodecVP8, buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, vp8KeyFrame) {
		t.Fatal("Encrypt wrote over its input")
	}
	if got, err := r.Decrypt(nil, CodecVP8, wire); err != nil || !bytes.Equal(got, vp8KeyFrame) {
		t.Fatalf("Decrypt = %x, %v", got, err)
	}
}

// TestParleyKnownAnswers pins the media layer's bytes for other
// implementations (the browser's Encoded Transform). The expected values
// were computed with an independent implementation (Python: hmac, hashlib
// and the cryptography package's AESGCM), from MK_e = 00 01 … 1f, epoch
// 258, sender_index 3, suite 0x0005.
func TestParleyKnownAnswers(t *testing.T) {
	const epoch, index = 258, 3
	base, err := SenderBaseKey(testMK, index)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(base), "b68a267ccaa98cf670b3215e103baf39ffcf58db1a443caf5b5d1bd05028be3b"; got != want {
		t.Errorf("base_key = %s, want %s", got, want)
	}
	if kid := SenderKID(index, epoch); kid != 0x302 {
		t.Errorf("KID = %#x, want 0x302", kid)
	}

	s, err := NewSender()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEpoch(epoch, testMK, index); err != nil {
		t.Fatal(err)
	}
	r, err := NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetEpoch(epoch, testMK, index+1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		codec Codec
		frame string
		wire  string
	}{
		{"opus ctr 0", CodecOpus, "786f707573207061796c6f6164",
			"789003022353c012649bff0a6acebd76b63ef05d427daa5384279321cfd5390a"},
		{"vp8 key frame ctr 1", CodecVP8, "5042009d012a8002e001767038206b6579206672616d65207061796c6f6164",
			"5042009d012a8002e0019103023a0485f71e61ec9d3f4b1e9ac58ae4e225faa4da5a2feb490714ea1d790147abd8f5a7028a"},
		{"vp8 delta frame ctr 2", CodecVP8, "3123007670382064656c7461",
			"312300920302d2a0cf2f0ba3d1590465756724f6f2228103f5bb9b9da8ca5c"},
		{"empty frame ctr 3", CodecVP8, "",
			"930302565d50950637c7f4ca7467a52022855a"},
		{"2-byte vp8 key frame ctr 4", CodecVP8, "5042",
			"5042940302af6d684f23de9eafe1dfbc1cb2ca0b47"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame, _ := hex.DecodeString(tt.frame)
			want, _ := hex.DecodeString(tt.wire)
			wire, err := s.Encrypt(nil, tt.codec, frame)
			if err != nil || !bytes.Equal(wire, want) {
				t.Fatalf("Encrypt = %x, %v; want %x", wire, err, want)
			}
			got, err := r.Decrypt(nil, tt.codec, want)
			if err != nil || !bytes.Equal(got, frame) {
				t.Fatalf("Decrypt = %x, %v; want %x", got, err, frame)
			}
		})
	}
}
