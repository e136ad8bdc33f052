package sframe

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		want []byte
	}{
		{"zero", Header{}, []byte{0x00}},
		{"both inline max", Header{KID: 7, CTR: 7}, []byte{0x77}},
		{"kid 8 extends", Header{KID: 8, CTR: 0}, []byte{0x80, 0x08}},
		{"ctr 8 extends", Header{KID: 0, CTR: 8}, []byte{0x08, 0x08}},
		{"parley kid", Header{KID: 3<<8 | 2, CTR: 0}, []byte{0x90, 0x03, 0x02}},
		{"both extended", Header{KID: 0x123, CTR: 0x4567}, []byte{0x99, 0x01, 0x23, 0x45, 0x67}},
		{"longest", Header{KID: math.MaxUint64, CTR: math.MaxUint64}, append([]byte{0xff}, bytes.Repeat([]byte{0xff}, 16)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := tt.h.Append([]byte("x"))[1:]
			if !bytes.Equal(enc, tt.want) {
				t.Fatalf("Append = %x, want %x", enc, tt.want)
			}
			if tt.h.Len() != len(enc) {
				t.Errorf("Len = %d, encoded %d", tt.h.Len(), len(enc))
			}
			got, n, err := ParseHeader(enc)
			if err != nil || got != tt.h || n != len(enc) {
				t.Errorf("ParseHeader = %+v, %d, %v", got, n, err)
			}
		})
	}
}

func TestParseHeaderRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"kid bytes missing", []byte{0x90, 0x01}, ErrTruncated},
		{"ctr bytes missing", []byte{0x09, 0x01}, ErrTruncated},
		{"kid 8 bytes missing all", []byte{0xf0}, ErrTruncated},
		{"ctr after long kid missing", []byte{0x8f, 0x08, 0x00}, ErrTruncated},
		{"kid 0 extended", []byte{0x80, 0x00}, ErrNonMinimal},
		{"kid 7 extended", []byte{0x80, 0x07}, ErrNonMinimal},
		{"ctr 5 extended", []byte{0x08, 0x05}, ErrNonMinimal},
		{"kid leading zero byte", []byte{0x90, 0x00, 0xff}, ErrNonMinimal},
		{"ctr leading zero byte", []byte{0x0a, 0x00, 0x01, 0x00}, ErrNonMinimal},
		{"ctr 8 bytes for a small value", []byte{0x0f, 0, 0, 0, 0, 0, 0, 0, 0x08}, ErrNonMinimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseHeader(%x) = %v, want %v and ErrMalformed", tt.in, err, tt.want)
			}
		})
	}
}

// TestHeaderEveryLength encodes values at every byte-length boundary.
func TestHeaderEveryLength(t *testing.T) {
	for kl := 0; kl <= 8; kl++ {
		for cl := 0; cl <= 8; cl++ {
			h := Header{KID: boundary(kl), CTR: boundary(cl)}
			enc := h.Append(nil)
			if len(enc) != 1+kl+cl {
				t.Fatalf("%+v encodes to %d bytes, want %d", h, len(enc), 1+kl+cl)
			}
			got, n, err := ParseHeader(enc)
			if err != nil || got != h || n != len(enc) {
				t.Fatalf("%+v: ParseHeader = %+v, %d, %v", h, got, n, err)
			}
		}
	}
}

// boundary returns the smallest value whose extension is n bytes.
func boundary(n int) uint64 {
	switch n {
	case 0:
		return 7
	case 1:
		return 8
	}
	return 1 << (8 * (n - 1))
}
