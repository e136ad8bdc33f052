package sframe

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// MaxHeaderSize is the longest SFrame header: the config byte, an 8-byte
// KID and an 8-byte CTR.
const MaxHeaderSize = 1 + 8 + 8

// Header is an SFrame header (RFC 9605 section 4.3): the key ID that names
// the key and the counter that, with the key's salt, makes the nonce.
//
// Encoded, it is one config byte
//
//	+-+-+-+-+-+-+-+-+
//	|X|  K  |Y|  C  |
//	+-+-+-+-+-+-+-+-+
//
// followed by the extended KID, if any, then the extended CTR, if any, each
// big-endian in the fewest bytes that hold it. A value 0–7 sits in K (or C)
// with X (or Y) clear; a larger one is appended and X (or Y) is set with
// K (or C) = its length in bytes minus one.
type Header struct {
	KID uint64
	CTR uint64
}

// Len returns the encoded length of h, 1 to MaxHeaderSize bytes.
func (h Header) Len() int {
	return 1 + extLen(h.KID) + extLen(h.CTR)
}

// Append appends the encoding of h to dst.
func (h Header) Append(dst []byte) []byte {
	kl, cl := extLen(h.KID), extLen(h.CTR)
	var cfg byte
	if kl == 0 {
		cfg = byte(h.KID) << 4
	} else {
		cfg = 0x80 | byte(kl-1)<<4
	}
	if cl == 0 {
		cfg |= byte(h.CTR)
	} else {
		cfg |= 0x08 | byte(cl-1)
	}
	dst = append(dst, cfg)
	dst = appendUint(dst, h.KID, kl)
	return appendUint(dst, h.CTR, cl)
}

// ParseHeader decodes the header at the start of data and returns it with
// its encoded length; the rest of data is the ciphertext. It rejects a
// header that runs past the end of data (ErrTruncated) and one whose KID or
// CTR is not minimally encoded (ErrNonMinimal), both also wrapping
// ErrMalformed, so that a header has exactly one encoding.
func ParseHeader(data []byte) (Header, int, error) {
	if len(data) == 0 {
		return Header{}, 0, fmt.Errorf("%w: %w: empty SFrame header", ErrMalformed, ErrTruncated)
	}
	cfg := data[0]
	kid, n, err := parseField(data, 1, cfg>>4, "KID")
	if err != nil {
		return Header{}, 0, err
	}
	ctr, n, err := parseField(data, n, cfg&0x0f, "CTR")
	if err != nil {
		return Header{}, 0, err
	}
	return Header{KID: kid, CTR: ctr}, n, nil
}

// parseField decodes one X|K (or Y|C) nibble, reading any extended value at
// data[off:], and returns the value and the offset after it.
func parseField(data []byte, off int, nibble byte, name string) (uint64, int, error) {
	if nibble&0x08 == 0 {
		return uint64(nibble), off, nil
	}
	l := int(nibble&0x07) + 1
	if len(data)-off < l {
		return 0, 0, fmt.Errorf("%w: %w: %s needs %d bytes at offset %d, %d left",
			ErrMalformed, ErrTruncated, name, l, off, len(data)-off)
	}
	var v uint64
	for _, b := range data[off : off+l] {
		v = v<<8 | uint64(b)
	}
	if extLen(v) != l {
		return 0, 0, fmt.Errorf("%w: %w: %s %d encoded in %d bytes, want %d",
			ErrMalformed, ErrNonMinimal, name, v, l, extLen(v))
	}
	return v, off + l, nil
}

// extLen is the number of bytes a value takes after the config byte: none
// for 0–7, else the fewest bytes that hold it.
func extLen(v uint64) int {
	if v < 8 {
		return 0
	}
	return (bits.Len64(v) + 7) / 8
}

// appendUint appends the low n bytes of v, big-endian.
func appendUint(dst []byte, v uint64, n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return append(dst, b[8-n:]...)
}
