package sframe

import (
	"bytes"
	"errors"
	"testing"
)

var allSuites = []CipherSuite{
	AES128CTRHMACSHA256Tag80, AES128CTRHMACSHA256Tag64, AES128CTRHMACSHA256Tag32,
	AES128GCMSHA256Tag128, AES256GCMSHA512Tag128,
	AES256CTRHMACSHA512Tag80, AES256CTRHMACSHA512Tag64, AES256CTRHMACSHA512Tag32,
}

func mustKey(t testing.TB, suite CipherSuite, kid uint64) *Key {
	t.Helper()
	k, err := NewKey(suite, kid, []byte("base key of a test"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyRoundTripEverySuite(t *testing.T) {
	meta := []byte("metadata")
	for _, s := range allSuites {
		t.Run(s.String(), func(t *testing.T) {
			k := mustKey(t, s, 0x1234)
			for _, n := range []int{0, 1, 15, 16, 17, 1000} {
				pt := bytes.Repeat([]byte{0xa5}, n)
				ct, err := k.Encrypt(nil, uint64(n), meta, pt)
				if err != nil {
					t.Fatal(err)
				}
				if want := (Header{KID: 0x1234, CTR: uint64(n)}).Len() + n + s.TagSize(); len(ct) != want {
					t.Errorf("len %d, want %d", len(ct), want)
				}
				got, h, err := k.Decrypt(nil, meta, ct)
				if err != nil || !bytes.Equal(got, pt) || h.CTR != uint64(n) {
					t.Errorf("n=%d: Decrypt = %x, %+v, %v", n, got, h, err)
				}
			}
		})
	}
}

func TestKeyDecryptRejects(t *testing.T) {
	meta := []byte("metadata")
	k := mustKey(t, DefaultSuite, 0x1234)
	good, err := k.Encrypt(nil, 99, meta, []byte("a frame of media"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	hl := Header{KID: 0x1234, CTR: 99}.Len()
	tests := []struct {
		name  string
		key   *Key
		meta  []byte
		frame []byte
		want  error
	}{
		{"tampered ciphertext", k, meta, flip(hl + 2), ErrAuthFailed},
		{"tampered tag", k, meta, flip(len(good) - 1), ErrAuthFailed},
		{"tampered counter", k, meta, flip(hl - 1), ErrAuthFailed},
		{"tampered KID", k, meta, flip(2), ErrUnknownKID},
		{"tampered metadata", k, []byte("metadatA"), good, ErrAuthFailed},
		{"missing metadata", k, nil, good, ErrAuthFailed},
		{"other KID's key", mustKey(t, DefaultSuite, 0x1235), meta, good, ErrUnknownKID},
		{"other base key", func() *Key { k, _ := NewKey(DefaultSuite, 0x1234, []byte("other")); return k }(), meta, good, ErrAuthFailed},
		{"empty", k, meta, nil, ErrMalformed},
		{"header only", k, meta, good[:hl], ErrTruncated},
		{"tag cut short", k, meta, good[:hl+15], ErrTruncated},
		{"one byte short", k, meta, good[:len(good)-1], ErrAuthFailed},
		{"non-minimal header", k, meta, append([]byte{0x80, 0x05}, good[1:]...), ErrNonMinimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := tt.key.Decrypt(nil, tt.meta, tt.frame)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt = %v, want %v", err, tt.want)
			}
			if out != nil {
				t.Errorf("returned %x alongside an error", out)
			}
		})
	}
}

func TestKeyErase(t *testing.T) {
	for _, s := range []CipherSuite{AES128CTRHMACSHA256Tag80, DefaultSuite} {
		t.Run(s.String(), func(t *testing.T) {
			k := mustKey(t, s, 9)
			ct, err := k.Encrypt(nil, 1, nil, []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			ctr := k.ctr
			k.Erase()
			if k.salt != [nonceSize]byte{} {
				t.Errorf("salt not cleared: %x", k.salt)
			}
			if ctr != nil && !bytes.Equal(ctr.authKey, make([]byte, len(ctr.authKey))) {
				t.Errorf("HMAC key not cleared: %x", ctr.authKey)
			}
			if _, err := k.Encrypt(nil, 2, nil, []byte("x")); !errors.Is(err, ErrNoKey) {
				t.Errorf("Encrypt after Erase = %v, want ErrNoKey", err)
			}
			if _, _, err := k.Decrypt(nil, nil, ct); !errors.Is(err, ErrNoKey) {
				t.Errorf("Decrypt after Erase = %v, want ErrNoKey", err)
			}
		})
	}
}

func TestNewKeyRejects(t *testing.T) {
	tests := []struct {
		name  string
		suite CipherSuite
		base  []byte
		want  error
	}{
		{"reserved suite", 0, []byte("k"), ErrUnsupportedSuite},
		{"unassigned suite", 0x0009, []byte("k"), ErrUnsupportedSuite},
		{"private-use suite", 0xf000, []byte("k"), ErrUnsupportedSuite},
		{"empty base key", DefaultSuite, nil, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKey(tt.suite, 1, tt.base); !errors.Is(err, tt.want) {
				t.Fatalf("NewKey = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKeyInPlace checks that a dst aliasing the input gives the right bytes
// and leaves the input intact (the header shifts the data, which
// crypto/cipher would otherwise reject with a panic).
func TestKeyInPlace(t *testing.T) {
	k := mustKey(t, DefaultSuite, 0x1234)
	buf := make([]byte, 64, 256)
	copy(buf, "a frame of media that is 64 bytes long, give or take some bytes")
	pt := bytes.Clone(buf)
	ct, err := k.Encrypt(buf[:0], 5, buf[:3], buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, pt) {
		t.Fatal("Encrypt wrote over its input")
	}
	got, _, err := k.Decrypt(ct[:0], pt[:3], ct)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt in place = %q, %v", got, err)
	}
}

func TestCipherSuiteParams(t *testing.T) {
	tests := []struct {
		s          CipherSuite
		name       string
		nk, nn, nt int
	}{
		{AES128CTRHMACSHA256Tag80, "AES_128_CTR_HMAC_SHA256_80", 48, 12, 10},
		{AES128CTRHMACSHA256Tag64, "AES_128_CTR_HMAC_SHA256_64", 48, 12, 8},
		{AES128CTRHMACSHA256Tag32, "AES_128_CTR_HMAC_SHA256_32", 48, 12, 4},
		{AES128GCMSHA256Tag128, "AES_128_GCM_SHA256_128", 16, 12, 16},
		{AES256GCMSHA512Tag128, "AES_256_GCM_SHA512_128", 32, 12, 16},
		{AES256CTRHMACSHA512Tag80, "AES_256_CTR_HMAC_SHA512_80", 96, 12, 10},
		{AES256CTRHMACSHA512Tag64, "AES_256_CTR_HMAC_SHA512_64", 96, 12, 8},
		{AES256CTRHMACSHA512Tag32, "AES_256_CTR_HMAC_SHA512_32", 96, 12, 4},
		{0x0009, "CipherSuite(0x0009)", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.String() != tt.name || tt.s.KeySize() != tt.nk || tt.s.NonceSize() != tt.nn || tt.s.TagSize() != tt.nt {
				t.Errorf("%v: Nk %d Nn %d Nt %d", tt.s, tt.s.KeySize(), tt.s.NonceSize(), tt.s.TagSize())
			}
			if tt.s.Supported() != (tt.nk > 0) {
				t.Errorf("Supported = %v", tt.s.Supported())
			}
		})
	}
}
