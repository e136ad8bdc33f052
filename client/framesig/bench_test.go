package framesig

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"
)

// The benchmarks price sender signatures on 1000-byte frames. Audio at
// 50 fps batched every 250 ms makes batches of about 12 frames, so
// BenchmarkSignerAdd/batch12 is the sender's cost per audio frame with its
// share of one Ed25519 signature; batch512 shows the floor as the
// signature is spread thin (a frame's SHA-256 and bookkeeping).

var benchFrame = bytes.Repeat([]byte{0xab}, 1000)

func BenchmarkSignerAdd(b *testing.B) {
	for _, n := range []int{12, MaxBatch} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			clock := newFakeClock() // still: only the batch limit closes batches
			s := newTestSigner(b, alice, clock, WithMaxBatch(n))
			b.SetBytes(int64(len(benchFrame)))
			b.ReportAllocs()
			var ctr uint64
			for b.Loop() {
				if _, err := s.Add(testEpoch, alice.kid, ctr, benchFrame); err != nil {
					b.Fatal(err)
				}
				ctr++
			}
		})
	}
}

// BenchmarkVerifierFrame is the receiver's cost per 1000-byte frame:
// Pending when the frame comes before its batch (the usual case, later
// settled by the batch, whose cost is BenchmarkVerifierMessage's),
// Verified when the batch overtook it. Batches of 512 frames are signed
// and applied with the timer stopped.
func BenchmarkVerifierFrame(b *testing.B) {
	for _, batchFirst := range []bool{false, true} {
		name, want := "pending", Pending
		if batchFirst {
			name, want = "verified", Verified
		}
		b.Run(name, func(b *testing.B) {
			clock := newFakeClock() // still: nothing is ever late
			v := newTestVerifier(b, clock, rosterOf(alice))
			s := newTestSigner(b, alice, clock)
			apply := func(msg []byte) {
				if err := v.Message(msg); err != nil {
					b.Fatal(err)
				}
			}
			var msg []byte
			b.SetBytes(int64(len(benchFrame)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctr := uint64(i)
				if ctr%MaxBatch == 0 {
					b.StopTimer()
					if msg != nil && !batchFirst {
						apply(msg) // settles the previous block's pending frames
					}
					for c := ctr; c < ctr+MaxBatch; c++ {
						msg, _ = s.Add(testEpoch, alice.kid, c, benchFrame)
					}
					if batchFirst {
						apply(msg)
					}
					b.StartTimer()
				}
				if got := v.Frame(testEpoch, alice.kid, ctr, benchFrame); got != want {
					b.Fatalf("verdict %v, want %v", got, want)
				}
			}
		})
	}
}

// BenchmarkVerifierMessage is the receiver's cost per message of 12
// digests (an audio sender's 250 ms): parsing, one Ed25519 verification,
// and the digests checked and kept.
func BenchmarkVerifierMessage(b *testing.B) {
	clock := newFakeClock()
	v := newTestVerifier(b, clock, rosterOf(alice))
	s := newTestSigner(b, alice, clock, WithMaxBatch(12))
	msgs := make([][]byte, 0, 256)
	for ctr := uint64(0); len(msgs) < cap(msgs); ctr++ {
		if msg, err := s.Add(testEpoch, alice.kid, ctr, benchFrame); err != nil {
			b.Fatal(err)
		} else if msg != nil {
			msgs = append(msgs, msg)
		}
	}
	b.SetBytes(int64(len(msgs[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := v.Message(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEd25519 are the floors: one signature and one verification of a
// 12-digest batch's signed bytes.
func BenchmarkEd25519(b *testing.B) {
	signed := make([]byte, len(signLabel)+1+len(testChain)+MeetingIDSize+BatchHeaderSize+12*DigestSize)
	sig := ed25519.Sign(alice.key, signed)
	pub := alice.key.Public().(ed25519.PublicKey)
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(alice.key, signed)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(pub, signed, sig)
		}
	})
}
