package sframe

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// The benchmarks run the media layer (suite 0x0005) on a 60-byte Opus
// frame and a 10 KB VP8 delta frame, each beside a bare AES-256-GCM
// Seal or Open of the same bytes with a precomputed key and nonce: the
// floor the layer's overhead is measured against.

var benchFrames = []struct {
	name  string
	codec Codec
	frame []byte
}{
	{"audio60B", CodecOpus, append([]byte{0x78}, bytes.Repeat([]byte{0xab}, 59)...)},
	{"video10KB", CodecVP8, append([]byte{0x31}, bytes.Repeat([]byte{0xcd}, 10*1024-1)...)},
}

func BenchmarkEncrypt(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name+"/parley", func(b *testing.B) {
			s, _ := newPair(b, 2)
			dst := make([]byte, 0, len(bf.frame)+64)
			b.SetBytes(int64(len(bf.frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Encrypt(dst, bf.codec, bf.frame); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bf.name+"/aesgcm", func(b *testing.B) {
			g, nonce := bareGCM(b)
			dst := make([]byte, 0, len(bf.frame)+64)
			b.SetBytes(int64(len(bf.frame)))
			b.ReportAllocs()
			for b.Loop() {
				g.Seal(dst, nonce, bf.frame, nil)
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name+"/parley", func(b *testing.B) {
			s, r := newPair(b, 2)
			// Every frame must be fresh or the replay window drops it, so
			// frames are encrypted in batches outside the timer.
			const batch = 512
			wires := make([][]byte, batch)
			for i := range wires {
				wires[i] = make([]byte, 0, len(bf.frame)+64)
			}
			dst := make([]byte, 0, len(bf.frame))
			b.SetBytes(int64(len(bf.frame)))
			b.ReportAllocs()
			i := batch
			for b.Loop() {
				if i == batch {
					b.StopTimer()
					for j := range wires {
						wires[j], _ = s.Encrypt(wires[j][:0], bf.codec, bf.frame)
					}
					i = 0
					b.StartTimer()
				}
				if _, err := r.Decrypt(dst, bf.codec, wires[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(bf.name+"/aesgcm", func(b *testing.B) {
			g, nonce := bareGCM(b)
			ct := g.Seal(nil, nonce, bf.frame, nil)
			dst := make([]byte, 0, len(bf.frame))
			b.SetBytes(int64(len(bf.frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Open(dst, nonce, ct, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func bareGCM(b *testing.B) (cipher.AEAD, []byte) {
	block, err := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return g, make([]byte, g.NonceSize())
}
