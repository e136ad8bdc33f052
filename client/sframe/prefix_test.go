package sframe

import (
	"bytes"
	"testing"
)

func TestPrefixLen(t *testing.T) {
	tests := []struct {
		name  string
		codec Codec
		frame []byte
		want  int
	}{
		{"vp8 key frame", CodecVP8, append([]byte{0x50}, make([]byte, 100)...), 10},
		{"vp8 key frame, other bits set", CodecVP8, append([]byte{0xfe}, make([]byte, 100)...), 10},
		{"vp8 delta frame", CodecVP8, append([]byte{0x31}, make([]byte, 100)...), 3},
		{"vp8 delta frame, only P bit", CodecVP8, append([]byte{0x01}, make([]byte, 100)...), 3},
		{"vp8 key frame of exactly 10", CodecVP8, make([]byte, 10), 10},
		{"vp8 short key frame", CodecVP8, make([]byte, 9), 9},
		{"vp8 short delta frame", CodecVP8, []byte{0x01, 0x02}, 2},
		{"vp8 empty", CodecVP8, nil, 0},
		{"opus", CodecOpus, []byte{0x78, 1, 2, 3}, 1},
		{"opus TOC only", CodecOpus, []byte{0x78}, 1},
		{"opus empty", CodecOpus, nil, 0},
		{"unknown codec", Codec(9), []byte{1, 2, 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.codec.PrefixLen(tt.frame); got != tt.want {
				t.Errorf("PrefixLen = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestClearPrefixOnWire checks that exactly the prefix travels in the clear
// and the header follows it.
func TestClearPrefixOnWire(t *testing.T) {
	s, _ := newPair(t, 4)
	for _, tt := range []struct {
		codec Codec
		frame []byte
		p     int
	}{
		{CodecVP8, []byte("\x50key-frame-header and the secret payload"), 10},
		{CodecVP8, []byte("\x31dt and the secret payload"), 3},
		{CodecOpus, []byte("\x78 and the secret payload"), 1},
	} {
		t.Run(tt.codec.String(), func(t *testing.T) {
			wire, err := s.Encrypt(nil, tt.codec, tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wire[:tt.p], tt.frame[:tt.p]) {
				t.Errorf("prefix %q, want %q", wire[:tt.p], tt.frame[:tt.p])
			}
			h, _, err := ParseHeader(wire[tt.p:])
			if err != nil || h.KID != SenderKID(1, testEpoch) {
				t.Errorf("header after prefix = %+v, %v", h, err)
			}
			if bytes.Contains(wire, []byte("secret")) {
				t.Error("payload visible on the wire")
			}
		})
	}
}

func TestCodecString(t *testing.T) {
	for c, want := range map[Codec]string{CodecOpus: "opus", CodecVP8: "vp8", 0: "Codec(0)"} {
		if c.String() != want {
			t.Errorf("%d: %q, want %q", uint8(c), c.String(), want)
		}
	}
}
