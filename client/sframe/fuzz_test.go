package sframe

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	for _, seed := range [][]byte{{0x00}, {0x99, 0x01, 0x23, 0x45, 0x67}, {0xff}, {0x80, 0x00}, {0x0f, 1, 2, 3, 4, 5, 6, 7, 8}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseHeader(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// One encoding per header: what parsed must re-encode to the same bytes.
		if enc := h.Append(nil); !bytes.Equal(enc, data[:n]) || h.Len() != n {
			t.Fatalf("%x parsed as %+v (%d bytes) re-encodes to %x", data, h, n, enc)
		}
	})
}

func FuzzKeyDecrypt(f *testing.F) {
	keys := make([]*Key, len(allSuites))
	for i, s := range allSuites {
		keys[i] = mustKey(f, s, 0x1234)
		ct, err := keys[i].Encrypt(nil, uint64(i), []byte("meta"), []byte("seed frame"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), []byte("meta"), ct)
	}
	f.Add(uint8(0), []byte(nil), []byte{})
	f.Fuzz(func(t *testing.T, sel uint8, meta, frame []byte) {
		k := keys[int(sel)%len(keys)]
		pt, h, err := k.Decrypt(nil, meta, frame)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		// Only a frame the key made decrypts; encrypting it again gives it back.
		again, err := k.Encrypt(nil, h.CTR, meta, pt)
		if err != nil || !bytes.Equal(again, frame) {
			t.Fatalf("re-encrypt = %x, %v; want %x", again, err, frame)
		}
	})
}

func FuzzKeyringDecrypt(f *testing.F) {
	s, r := newPair(f, 4)
	for _, c := range []struct {
		codec Codec
		frame []byte
	}{{CodecOpus, opusFrame}, {CodecVP8, vp8KeyFrame}, {CodecVP8, vp8DeltaFrame}, {CodecOpus, nil}, {CodecVP8, []byte{0x50, 1}}} {
		f.Add(uint8(c.codec), mustEncrypt(f, s, c.codec, c.frame))
	}
	f.Add(uint8(0), []byte{0x00})
	f.Fuzz(func(t *testing.T, codec uint8, frame []byte) {
		out, err := r.Decrypt(nil, Codec(codec), frame)
		if err != nil {
			if out != nil {
				t.Fatal("output returned with an error")
			}
			return
		}
		if len(out) >= len(frame) {
			t.Fatalf("decrypted %d bytes from a %d-byte frame", len(out), len(frame))
		}
	})
}

// FuzzMediaRoundTrip checks that every frame, of any length and first
// byte, comes back byte for byte, and only once.
func FuzzMediaRoundTrip(f *testing.F) {
	s, r := newPair(f, 2)
	for _, seed := range [][]byte{nil, {0x50}, {0x51, 2}, opusFrame, vp8KeyFrame[:9], vp8KeyFrame} {
		f.Add(false, seed)
		f.Add(true, seed)
	}
	f.Fuzz(func(t *testing.T, vp8 bool, frame []byte) {
		codec := CodecOpus
		if vp8 {
			codec = CodecVP8
		}
		wire, err := s.Encrypt(nil, codec, frame)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Decrypt(nil, codec, wire)
		if err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("round trip of %x = %x, %v", frame, got, err)
		}
		if _, err := r.Decrypt(nil, codec, wire); !errors.Is(err, ErrReplay) {
			t.Fatalf("second delivery = %v, want ErrReplay", err)
		}
	})
}
