package framesig

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRoundTrip runs two senders through one receiver for 30 s of media
// (a frame each every 10 ms) with partial delivery: the relay forwards
// only two frames in three of alice's (her "audio"), loses a tenth of
// bob's and holds another tenth back 400 ms, past the batch that covers
// them, and bob's messages trail his frames by 50 ms. Every frame received
// must end verified, and no one cut.
func TestRoundTrip(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice, bob))
	as, bs := newTestSigner(t, alice, clock), newTestSigner(t, bob, clock)

	type held struct {
		due   int
		ctr   uint64
		frame []byte
	}
	var heldFrames []held
	var heldMsgs []struct {
		due int
		msg []byte
	}
	received, messages := 0, 0
	deliver := func(msg []byte) {
		t.Helper()
		if err := v.Message(msg); err != nil {
			t.Fatal(err)
		}
		messages++
	}
	frame := func(m member, ctr uint64, f []byte, want Verdict) {
		t.Helper()
		mustVerdict(t, v.Frame(testEpoch, m.kid, ctr, f), want, m.name)
		received++
	}
	const steps = 3000
	for i := range steps {
		clock.Advance(10 * time.Millisecond)
		ctr := uint64(i)

		af := testFrame(alice.kid, ctr, 0)
		msg, err := as.Add(testEpoch, alice.kid, ctr, af)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			frame(alice, ctr, af, Pending)
		}
		if msg != nil {
			deliver(msg)
		}

		bf := testFrame(bob.kid, ctr, 0)
		msg, err = bs.Add(testEpoch, bob.kid, ctr, bf)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 10 {
		case 7: // lost
		case 3:
			heldFrames = append(heldFrames, held{i + 40, ctr, bf})
		default:
			frame(bob, ctr, bf, Pending)
		}
		if msg != nil {
			heldMsgs = append(heldMsgs, struct {
				due int
				msg []byte
			}{i + 5, msg})
		}

		for len(heldMsgs) > 0 && heldMsgs[0].due <= i {
			deliver(heldMsgs[0].msg)
			heldMsgs = heldMsgs[1:]
		}
		for len(heldFrames) > 0 && heldFrames[0].due <= i {
			frame(bob, heldFrames[0].ctr, heldFrames[0].frame, Verified)
			heldFrames = heldFrames[1:]
		}
		if i%25 == 24 { // the callers' timers
			for _, s := range []*Signer{as, bs} {
				msg, err := s.Flush()
				if err != nil {
					t.Fatal(err)
				}
				if msg != nil {
					deliver(msg) // bob's come early this time: any order works
				}
			}
		}
		if i%10 == 9 {
			mustSweep(t, v, nil)
		}
	}
	for _, s := range []*Signer{as, bs} {
		msg, err := s.Flush()
		if err != nil {
			t.Fatal(err)
		}
		if msg != nil {
			deliver(msg)
		}
	}
	for _, h := range heldMsgs {
		deliver(h.msg)
	}
	for _, h := range heldFrames {
		frame(bob, h.ctr, h.frame, Verified)
	}
	clock.Advance((signedKeep + 1) * DefaultMissingAfter)
	mustSweep(t, v, nil)

	st := v.Stats()
	if st.Verified != uint64(received) || st.Pending != 0 || st.Dropped != 0 || st.Unverified != 0 {
		t.Fatalf("stats %+v; want all %d frames received verified", st, received)
	}
	if st.MessagesOK != uint64(messages) || st.CutForged+st.CutUnsigned+st.CutEquivocated != 0 {
		t.Fatalf("stats %+v; want %d messages, no cuts", st, messages)
	}
	if len(v.senders) != 0 {
		t.Fatalf("%d senders still kept after everything expired", len(v.senders))
	}
}

// sign has m's Signer sign frames under counters from first and returns
// the message.
func sign(t testing.TB, m member, clock *fakeClock, first uint64, frames ...[]byte) []byte {
	t.Helper()
	s := newTestSigner(t, m, clock)
	for i, f := range frames {
		if msg, err := s.Add(testEpoch, m.kid, first+uint64(i), f); msg != nil || err != nil {
			t.Fatalf("Add = %x, %v", msg, err)
		}
	}
	msg, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// framesOf returns n test frames of kid from counter first.
func framesOf(kid, first uint64, n int, variant byte) [][]byte {
	fs := make([][]byte, n)
	for i := range fs {
		fs[i] = testFrame(kid, first+uint64(i), variant)
	}
	return fs
}

func TestForgedFrameIsCut(t *testing.T) {
	real := framesOf(alice.kid, 0, 10, 0)
	forged := testFrame(alice.kid, 4, 'M')

	t.Run("frame before batch", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice, mallory))
		for i, f := range real {
			if i == 4 {
				f = forged
			}
			mustVerdict(t, v.Frame(testEpoch, alice.kid, uint64(i), f), Pending, "frame")
		}
		if err := v.Message(sign(t, alice, clock, 0, real...)); err != nil {
			t.Fatalf("Message = %v; a valid message is accepted even when it cuts", err)
		}
		mustCut(t, v, testEpoch, alice.kid, ErrForged)
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 10, testFrame(alice.kid, 10, 0)), Drop, "frame after the cut")
		mustSweep(t, v, map[uint64]error{alice.kid: ErrForged})
		mustSweep(t, v, nil)
		if st := v.Stats(); st.CutForged != 1 || st.Dropped != 1 || st.Pending != 0 || st.Verified+st.Unverified != 10 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("batch before frame", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice, mallory))
		if err := v.Message(sign(t, alice, clock, 0, real...)); err != nil {
			t.Fatal(err)
		}
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 3, real[3]), Verified, "real late frame")
		clock.Advance(DefaultMissingAfter - time.Nanosecond)
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 4, forged), Drop, "forged late frame")
		mustCut(t, v, testEpoch, alice.kid, ErrForged)
		mustSweep(t, v, map[uint64]error{alice.kid: ErrForged})
	})
	t.Run("two frames under one counter", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice, mallory))
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 4, real[4]), Pending, "first")
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 4, real[4]), Pending, "the same again")
		mustNotCut(t, v, testEpoch, alice.kid)
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 4, forged), Drop, "another")
		mustCut(t, v, testEpoch, alice.kid, ErrForged)
	})
}

// TestRelabelledKID: mallory, a member colluding with the relay, seals her
// frames under alice's KID (she holds the group key, so they decrypt) and
// the relay delivers them as alice's.
func TestRelabelledKID(t *testing.T) {
	roster := rosterOf(alice, bob, mallory)
	t.Run("counters alice never sends", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, roster)
		forged := framesOf(alice.kid, 1000, 12, 'M')
		var digests [][DigestSize]byte
		for i, f := range forged {
			mustVerdict(t, v.Frame(testEpoch, alice.kid, 1000+uint64(i), f), Pending, "forged frame")
			digests = append(digests, digestOf(f))
		}
		// Her signature under alice's KID does not verify…
		err := v.Message(encodeMessage(mallory.key, testChain, testMeeting, testEpoch, alice.kid, 1000, digests...))
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("mallory's batch under alice's KID: %v; want ErrBadSignature", err)
		}
		// …and under her own covers nothing of alice's.
		if err := v.Message(encodeMessage(mallory.key, testChain, testMeeting, testEpoch, mallory.kid, 1000, digests...)); err != nil {
			t.Fatalf("mallory's batch under her own KID: %v", err)
		}
		// Meanwhile alice's real frames verify.
		real := framesOf(alice.kid, 0, 12, 0)
		for i, f := range real {
			mustVerdict(t, v.Frame(testEpoch, alice.kid, uint64(i), f), Pending, "real frame")
		}
		if err := v.Message(sign(t, alice, clock, 0, real...)); err != nil {
			t.Fatal(err)
		}
		if st := v.Stats(); st.Pending != 12 || st.Verified != 12 || st.BadSignature != 1 || st.MessagesOK != 2 {
			t.Fatalf("stats %+v; want mallory's 12 frames pending, alice's 12 verified", st)
		}
		clock.Advance(DefaultMissingAfter)
		mustSweep(t, v, nil) // exactly MissingAfter is not yet late
		clock.Advance(time.Millisecond)
		mustSweep(t, v, map[uint64]error{alice.kid: ErrUnsigned})
		mustNotCut(t, v, testEpoch, mallory.kid)
		// alice's KID is held: her frames play only once verified, and
		// the next forged one never does.
		next := testFrame(alice.kid, 12, 0)
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 12, next), Hold, "alice's next frame")
		forgedNext := testFrame(alice.kid, 2000, 'M')
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 2000, forgedNext), Hold, "mallory's next frame")
		if err := v.Message(sign(t, alice, clock, 12, next)); err != nil {
			t.Fatal(err)
		}
		mustVerdict(t, v.Settled(testEpoch, alice.kid, 12, next), Verified, "alice's signed frame")
		mustVerdict(t, v.Settled(testEpoch, alice.kid, 2000, forgedNext), Hold, "mallory's frame")
		clock.Advance(DefaultMissingAfter + time.Millisecond)
		mustSweep(t, v, nil)
		mustVerdict(t, v.Settled(testEpoch, alice.kid, 2000, forgedNext), Drop, "mallory's frame past MissingAfter")
		if st := v.Stats(); st.Unverified != 12 || st.Held != 1 || st.HeldExpired != 1 || st.CutUnsigned != 0 {
			t.Fatalf("stats %+v; want the 12 forged frames unverified, alice held, mallory's held frame expired", st)
		}
	})
	t.Run("alice's own counters", func(t *testing.T) {
		// The relay drops alice's frames and delivers mallory's in their
		// place; alice's batch arrives and mismatches.
		clock := newFakeClock()
		v := newTestVerifier(t, clock, roster)
		for i, f := range framesOf(alice.kid, 0, 12, 'M') {
			mustVerdict(t, v.Frame(testEpoch, alice.kid, uint64(i), f), Pending, "forged frame")
		}
		if err := v.Message(sign(t, alice, clock, 0, framesOf(alice.kid, 0, 12, 0)...)); err != nil {
			t.Fatal(err)
		}
		mustSweep(t, v, map[uint64]error{alice.kid: ErrForged})
	})
}

func TestReplayedMessageIsHarmless(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice))
	frames := framesOf(alice.kid, 0, 20, 0)
	for i, f := range frames {
		mustVerdict(t, v.Frame(testEpoch, alice.kid, uint64(i), f), Pending, "frame")
	}
	msg := sign(t, alice, clock, 0, frames...)
	for range 3 {
		if err := v.Message(msg); err != nil {
			t.Fatal(err)
		}
	}
	mustVerdict(t, v.Frame(testEpoch, alice.kid, 5, frames[5]), Verified, "the same frame again")
	clock.Advance(2 * DefaultMissingAfter)
	mustSweep(t, v, nil)
	if err := v.Message(msg); err != nil { // after its digests expired
		t.Fatal(err)
	}
	mustSweep(t, v, nil)
	if st := v.Stats(); st.Verified != 21 || st.MessagesOK != 4 || st.Pending != 0 {
		t.Fatalf("stats %+v; want 20 frames verified once, the repeat once more", st)
	}

	// Replayed into another meeting or chain, it does not verify.
	other := bytes.Repeat([]byte{0xBB}, MeetingIDSize)
	for _, c := range []struct {
		chain   string
		meeting []byte
	}{{testChain, other}, {"parley-other", testMeeting}} {
		w, err := NewVerifier(c.chain, c.meeting, rosterOf(alice), WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Message(msg); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("chain %q meeting %x: %v; want ErrBadSignature", c.chain, c.meeting, err)
		}
	}
}

func TestEquivocationIsCut(t *testing.T) {
	a, b := framesOf(alice.kid, 5, 3, 0), framesOf(alice.kid, 5, 3, 0)
	b[1] = testFrame(alice.kid, 6, 'X')
	for _, withFrames := range []bool{false, true} {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice))
		if withFrames {
			for i, f := range a {
				mustVerdict(t, v.Frame(testEpoch, alice.kid, 5+uint64(i), f), Pending, "frame")
			}
		}
		if err := v.Message(sign(t, alice, clock, 5, a...)); err != nil {
			t.Fatal(err)
		}
		// An overlapping batch that agrees is fine.
		if err := v.Message(sign(t, alice, clock, 6, a[1:]...)); err != nil {
			t.Fatal(err)
		}
		mustNotCut(t, v, testEpoch, alice.kid)
		clock.Advance(DefaultMissingAfter / 2)
		if err := v.Message(sign(t, alice, clock, 5, b...)); err != nil {
			t.Fatal(err)
		}
		mustCut(t, v, testEpoch, alice.kid, ErrEquivocated)
		mustSweep(t, v, map[uint64]error{alice.kid: ErrEquivocated})
		if st := v.Stats(); st.CutEquivocated != 1 {
			t.Fatalf("stats %+v", st)
		}
	}
}

// TestRefusedMessagesChangeNothing sends alice's frames and then, in each
// case, a message that would cut her were it accepted (its digests are not
// of her frames): it must be refused with its reason, counted, and change
// nothing else.
func TestRefusedMessagesChangeNothing(t *testing.T) {
	junk := make([][DigestSize]byte, 12)
	for i := range junk {
		junk[i][0] = byte(i + 1)
	}
	base := encodeMessage(alice.key, testChain, testMeeting, testEpoch, alice.kid, 0, junk...)
	edit := func(f func(m []byte) []byte) []byte { return f(bytes.Clone(base)) }
	shortKey := func(epoch, kid uint64) (ed25519.PublicKey, bool) {
		return alice.key.Public().(ed25519.PublicKey)[:31], true
	}
	cases := []struct {
		name   string
		msg    []byte
		keyFor KeyFor
		want   error
	}{
		{"empty", nil, nil, ErrMalformed},
		{"header only", base[:BatchHeaderSize], nil, ErrMalformed},
		{"no digest", append(edit(func(m []byte) []byte { m[26] = 0; return m[:BatchHeaderSize] }), make([]byte, 64)...), nil, ErrMalformed},
		{"version 0", edit(func(m []byte) []byte { m[0] = 0; return m }), nil, ErrMalformed},
		{"version 2", edit(func(m []byte) []byte { m[0] = 2; return m }), nil, ErrMalformed},
		{"n = 0", edit(func(m []byte) []byte { m[26] = 0; return m }), nil, ErrMalformed},
		{"n says 11 of 12", edit(func(m []byte) []byte { m[26] = 11; return m }), nil, ErrMalformed},
		{"n = 513", encodeMessage(alice.key, testChain, testMeeting, testEpoch, alice.kid, 0, make([][DigestSize]byte, MaxBatch+1)...), nil, ErrMalformed},
		{"one byte short", base[:len(base)-1], nil, ErrMalformed},
		{"one byte more", append(bytes.Clone(base), 0), nil, ErrMalformed},
		{"counters wrap", encodeMessage(alice.key, testChain, testMeeting, testEpoch, alice.kid, math.MaxUint64-10, junk...), nil, ErrMalformed},
		{"unknown KID", encodeMessage(alice.key, testChain, testMeeting, testEpoch, kidOf(9), 0, junk...), nil, ErrUnknownSender},
		{"unknown epoch", encodeMessage(alice.key, testChain, testMeeting, testEpoch+1, alice.kid, 0, junk...), nil, ErrUnknownSender},
		{"roster key of 31 bytes", base, shortKey, ErrUnknownSender},
		{"flipped signature bit", edit(func(m []byte) []byte { m[len(m)-1] ^= 1; return m }), nil, ErrBadSignature},
		{"flipped digest bit", edit(func(m []byte) []byte { m[BatchHeaderSize] ^= 1; return m }), nil, ErrBadSignature},
		{"first counter moved", edit(func(m []byte) []byte { m[24]++; return m }), nil, ErrBadSignature},
		{"relabelled as bob's", edit(func(m []byte) []byte { m[16] = byte(bob.kid); m[15] = byte(bob.kid >> 8); return m }), nil, ErrBadSignature},
		{"signed by mallory", encodeMessage(mallory.key, testChain, testMeeting, testEpoch, alice.kid, 0, junk...), nil, ErrBadSignature},
		{"signed for another chain", encodeMessage(alice.key, "parley-main", testMeeting, testEpoch, alice.kid, 0, junk...), nil, ErrBadSignature},
		{"signed for another meeting", encodeMessage(alice.key, testChain, make([]byte, 16), testEpoch, alice.kid, 0, junk...), nil, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			keyFor := c.keyFor
			if keyFor == nil {
				keyFor = rosterOf(alice, bob, mallory)
			}
			v := newTestVerifier(t, clock, keyFor)
			frames := framesOf(alice.kid, 0, 12, 0)
			for i, f := range frames {
				v.Frame(testEpoch, alice.kid, uint64(i), f)
			}
			before := v.Stats()
			err := v.Message(c.msg)
			if !errors.Is(err, c.want) {
				t.Fatalf("Message = %v; want %v", err, c.want)
			}
			after := v.Stats()
			counted := map[error]uint64{ErrMalformed: after.Malformed, ErrUnknownSender: after.UnknownSender, ErrBadSignature: after.BadSignature}
			if counted[c.want] != 1 {
				t.Fatalf("stats %+v; want the refusal counted once", after)
			}
			after.Malformed, after.UnknownSender, after.BadSignature = 0, 0, 0
			if after != before {
				t.Fatalf("stats %+v after a refused message; want %+v", after, before)
			}
			mustNotCut(t, v, testEpoch, alice.kid)
			mustSweep(t, v, nil)
			if c.keyFor == nil {
				// Her own batch still finds every frame waiting.
				if err := v.Message(sign(t, alice, clock, 0, frames...)); err != nil {
					t.Fatal(err)
				}
				if st := v.Stats(); st.Verified != 12 {
					t.Fatalf("stats %+v; want all 12 frames verified", st)
				}
			}
		})
	}
}

func TestUnsignedFramesAreHeld(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice, bob), WithMissingAfter(time.Second))
	af := framesOf(alice.kid, 0, 10, 0)
	for i, f := range af {
		v.Frame(testEpoch, alice.kid, uint64(i), f)
		v.Frame(testEpoch, bob.kid, uint64(i), testFrame(bob.kid, uint64(i), 0))
	}
	// alice signs only half of what she sent; bob nothing.
	if err := v.Message(sign(t, alice, clock, 0, af[:5]...)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	mustSweep(t, v, nil)
	clock.Advance(time.Nanosecond)
	mustSweep(t, v, map[uint64]error{alice.kid: ErrUnsigned, bob.kid: ErrUnsigned})
	mustSweep(t, v, nil)
	if st := v.Stats(); st.Verified != 5 || st.Unverified != 15 || st.Pending != 0 || st.Held != 2 || st.CutUnsigned != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A late batch does not make the frames given up verified, and the
	// KIDs stay held: their next frames wait for their batch.
	if err := v.Message(sign(t, alice, clock, 5, af[5:]...)); err != nil {
		t.Fatal(err)
	}
	if st := v.Stats(); st.Verified != 5 {
		t.Fatalf("stats %+v: a late batch verified frames already given up", st)
	}
	mustNotCut(t, v, testEpoch, alice.kid)
	mustVerdict(t, v.Frame(testEpoch, bob.kid, 10, testFrame(bob.kid, 10, 0)), Hold, "bob's next frame")
}

func TestLateFrames(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice))
	frames := framesOf(alice.kid, 0, 10, 0)
	if err := v.Message(sign(t, alice, clock, 0, frames...)); err != nil {
		t.Fatal(err)
	}
	mustVerdict(t, v.Frame(testEpoch, alice.kid, 0, frames[0]), Verified, "frame just after its batch")
	keep := signedKeep * DefaultMissingAfter
	clock.Advance(keep - time.Nanosecond)
	mustVerdict(t, v.Frame(testEpoch, alice.kid, 1, frames[1]), Verified, "frame 4 MissingAfter after its batch, less 1 ns")
	clock.Advance(time.Nanosecond)
	mustVerdict(t, v.Frame(testEpoch, alice.kid, 2, frames[2]), Pending, "frame 4 MissingAfter after its batch")
	mustSweep(t, v, nil)
	clock.Advance(DefaultMissingAfter + time.Nanosecond)
	mustSweep(t, v, map[uint64]error{alice.kid: ErrUnsigned})
}

// TestSignedWindowKeepsRecentCounters: a replay of an old batch cannot push
// recent digests out of the window.
func TestSignedWindowKeepsRecentCounters(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice))
	recent := framesOf(alice.kid, SignedWindow, 10, 0)
	if err := v.Message(sign(t, alice, clock, SignedWindow, recent...)); err != nil {
		t.Fatal(err)
	}
	if err := v.Message(sign(t, alice, clock, 0, framesOf(alice.kid, 0, 10, 0)...)); err != nil {
		t.Fatal(err)
	}
	for i, f := range recent {
		mustVerdict(t, v.Frame(testEpoch, alice.kid, SignedWindow+uint64(i), f), Verified, "recent frame")
	}
}

func TestPendingBounds(t *testing.T) {
	t.Run("per KID", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice, bob))
		for i := range 10 {
			v.Frame(testEpoch, bob.kid, uint64(i), testFrame(bob.kid, uint64(i), 0))
		}
		for i := range MaxPendingPerKID {
			mustVerdict(t, v.Frame(testEpoch, mallory.kid, uint64(i), testFrame(mallory.kid, uint64(i), 0)), Pending, "flood")
		}
		mustVerdict(t, v.Frame(testEpoch, mallory.kid, MaxPendingPerKID, []byte("one more")), Drop, "one over")
		mustSweep(t, v, map[uint64]error{mallory.kid: ErrUnsigned})
		mustNotCut(t, v, testEpoch, bob.kid)
		if st := v.Stats(); st.Pending != 10 || st.Unverified != MaxPendingPerKID {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("in all", func(t *testing.T) {
		clock := newFakeClock()
		v := newTestVerifier(t, clock, rosterOf(alice))
		// Four flooding KIDs of 1000 frames, alice's honest 96: full.
		for k := range uint64(4) {
			for i := range 1000 {
				v.Frame(testEpoch, kidOf(10+k), uint64(i), testFrame(kidOf(10+k), uint64(i), 0))
			}
		}
		for i := range MaxPending - 4000 {
			v.Frame(testEpoch, alice.kid, uint64(i), testFrame(alice.kid, uint64(i), 0))
		}
		if st := v.Stats(); st.Pending != MaxPending {
			t.Fatalf("pending %d, want %d", st.Pending, MaxPending)
		}
		mustVerdict(t, v.Frame(testEpoch, alice.kid, 96, testFrame(alice.kid, 96, 0)), Pending, "alice's next frame")
		mustSweep(t, v, map[uint64]error{kidOf(10): ErrUnsigned})
		if st := v.Stats(); st.Pending != MaxPending-1000+1 {
			t.Fatalf("pending %d, want %d", st.Pending, MaxPending-1000+1)
		}
		// The flooder with the most goes next, whoever's frame overflows.
		for i := range 999 {
			v.Frame(testEpoch, kidOf(14), uint64(i), testFrame(kidOf(14), uint64(i), 0))
		}
		mustVerdict(t, v.Frame(testEpoch, kidOf(14), 999, testFrame(kidOf(14), 999, 0)), Pending, "frame over the bound")
		mustSweep(t, v, map[uint64]error{kidOf(11): ErrUnsigned})
		mustNotCut(t, v, testEpoch, alice.kid)
	})
}

func TestSenderTableBound(t *testing.T) {
	anyKID := func(epoch, kid uint64) (ed25519.PublicKey, bool) {
		return alice.key.Public().(ed25519.PublicKey), true
	}
	clock := newFakeClock()
	v := newTestVerifier(t, clock, anyKID)
	// Valid messages of more (epoch, KID)s than it follows.
	for e := range uint64(MaxSenders + 40) {
		msg := encodeMessage(alice.key, testChain, testMeeting, e, 1, 0, digestOf([]byte("f")))
		if err := v.Message(msg); err != nil {
			t.Fatal(err)
		}
	}
	if len(v.senders) != MaxSenders {
		t.Fatalf("%d senders kept, want %d", len(v.senders), MaxSenders)
	}
	// Frames replace idle states.
	for k := range uint64(MaxSenders) {
		mustVerdict(t, v.Frame(1000, k, 0, []byte("f")), Pending, "frame of a new KID")
	}
	if len(v.senders) != MaxSenders {
		t.Fatalf("%d senders kept, want %d", len(v.senders), MaxSenders)
	}
	// Full of states with frames pending: a message is checked, not kept;
	// a frame of another KID is refused.
	if err := v.Message(encodeMessage(alice.key, testChain, testMeeting, 2000, 1, 0, digestOf([]byte("f")))); err != nil {
		t.Fatal(err)
	}
	mustVerdict(t, v.Frame(2000, 1, 0, []byte("f")), Drop, "frame with no room")
	if len(v.senders) != MaxSenders {
		t.Fatalf("%d senders kept, want %d", len(v.senders), MaxSenders)
	}
	// Once they are held with nothing pending, a new KID's frame makes
	// room by forgetting the held state of the lowest (epoch, KID).
	clock.Advance(2 * DefaultMissingAfter)
	if cuts := v.Sweep(); len(cuts) != MaxSenders {
		t.Fatalf("%d holds, want %d", len(cuts), MaxSenders)
	}
	mustVerdict(t, v.Frame(2000, 1, 0, []byte("f")), Pending, "frame of a new KID")
	if _, ok := v.senders[sender{1000, 0}]; ok {
		t.Fatal("the lowest held state was kept")
	}
	if st := v.senders[sender{1000, 1}]; st == nil || !st.held {
		t.Fatal("the next held state was forgotten")
	}
	if len(v.senders) != MaxSenders {
		t.Fatalf("%d senders kept, want %d", len(v.senders), MaxSenders)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	roster := rosterOf(alice)
	cases := []struct {
		name    string
		chain   string
		meeting []byte
		keyFor  KeyFor
		opts    []Option
	}{
		{"nil keyFor", testChain, testMeeting, nil, nil},
		{"empty chain ID", "", testMeeting, roster, nil},
		{"chain ID of 256 bytes", strings.Repeat("c", 256), testMeeting, roster, nil},
		{"meeting ID of 15 bytes", testChain, testMeeting[:15], roster, nil},
		{"zero missing-after", testChain, testMeeting, roster, []Option{WithMissingAfter(0)}},
		{"nil clock", testChain, testMeeting, roster, []Option{WithClock(nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if v, err := NewVerifier(c.chain, c.meeting, c.keyFor, c.opts...); !errors.Is(err, ErrInvalidArgument) || v != nil {
				t.Fatalf("NewVerifier = %v, %v; want ErrInvalidArgument", v, err)
			}
		})
	}
}

// TestConcurrentUse runs two senders' goroutines against one Verifier
// while a third sweeps and reads; run it with -race.
func TestConcurrentUse(t *testing.T) {
	clock := newFakeClock()
	v := newTestVerifier(t, clock, rosterOf(alice, bob))
	const frames = 2000
	var senders sync.WaitGroup
	errs := make(chan error, 2)
	for _, m := range []member{alice, bob} {
		s := newTestSigner(t, m, clock, WithMaxBatch(16))
		senders.Go(func() {
			for i := range uint64(frames) {
				f := testFrame(m.kid, i, 0)
				msg, err := s.Add(testEpoch, m.kid, i, f)
				if err == nil && v.Frame(testEpoch, m.kid, i, f) != Pending {
					err = errors.New("frame not pending")
				}
				if err == nil && msg != nil {
					err = v.Message(msg)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			msg, err := s.Flush()
			if err == nil && msg != nil {
				err = v.Message(msg)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	stop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v.Sweep()
			v.Stats()
			v.Cut(testEpoch, alice.kid)
		}
	})
	senders.Wait()
	close(stop)
	sweeper.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustSweep(t, v, nil)
	if st := v.Stats(); st.Verified != 2*frames || st.Pending != 0 {
		t.Fatalf("stats %+v; want %d verified", st, 2*frames)
	}
}
