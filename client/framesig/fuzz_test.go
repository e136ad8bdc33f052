package framesig

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// FuzzMessage feeds arbitrary bytes to Message with alice's twelve frames
// pending. It must never panic; a refused message must wrap one of the
// three reasons and change nothing but its counter; an accepted one must be
// the only encoding of its batch.
func FuzzMessage(f *testing.F) {
	clock := newFakeClock()
	frames := framesOf(alice.kid, 0, 12, 0)
	f.Add(sign(f, alice, clock, 0, frames...))
	f.Add(sign(f, alice, clock, 6, frames[6:]...))
	f.Add(sign(f, alice, clock, 0, framesOf(alice.kid, 0, 12, 'M')...))
	f.Add(encodeMessage(alice.key, testChain, testMeeting, testEpoch, alice.kid, 0, make([][DigestSize]byte, MaxBatch)...))
	f.Add(encodeMessage(mallory.key, testChain, testMeeting, testEpoch, alice.kid, 0, digestOf(frames[0])))
	f.Add([]byte(loadKnownAnswer(f).Message))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(make([]byte, BatchHeaderSize+DigestSize+ed25519.SignatureSize))

	// Any KID below 1<<32 of any epoch is alice's, so that mutated headers
	// still reach the signature check; the rest are unknown.
	keyFor := func(epoch, kid uint64) (ed25519.PublicKey, bool) {
		return alice.key.Public().(ed25519.PublicKey), kid < 1<<32
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		v := newTestVerifier(t, newFakeClock(), keyFor)
		for i, fr := range frames {
			v.Frame(testEpoch, alice.kid, uint64(i), fr)
		}
		before := v.Stats()
		err := v.Message(msg)
		after := v.Stats()
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownSender) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error %v wraps none of the message reasons", err)
			}
			if after.Malformed+after.UnknownSender+after.BadSignature != 1 {
				t.Fatalf("stats %+v; want the refusal counted once", after)
			}
			after.Malformed, after.UnknownSender, after.BadSignature = 0, 0, 0
			if after != before {
				t.Fatalf("refused message changed stats %+v to %+v", before, after)
			}
			if cuts := v.Sweep(); len(cuts) != 0 {
				t.Fatalf("refused message cut %v", cuts)
			}
			return
		}
		m, perr := parseMessage(msg)
		if perr != nil {
			t.Fatalf("accepted message does not parse: %v", perr)
		}
		digests := make([][DigestSize]byte, m.n)
		for i := range digests {
			digests[i] = m.digest(i)
		}
		if again := encodeMessage(alice.key, testChain, testMeeting, m.epoch, m.kid, m.first, digests...); !bytes.Equal(again, msg) {
			t.Fatalf("accepted %x, which encodes as %x", msg, again)
		}
		if after.Pending > MaxPending || after.MessagesOK != 1 {
			t.Fatalf("stats %+v", after)
		}
	})
}
