package sfu_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu/sfutest"
)

// byArrival sorts packets by the time they came.
func byArrival(ps []sfutest.Packet) []sfutest.Packet {
	slices.SortStableFunc(ps, func(a, b sfutest.Packet) int { return a.At.Compare(b.At) })
	return ps
}

// checkContinuous fails unless the slot's sequence numbers go up by one
// from packet to packet and its timestamps never go back.
func checkContinuous(t *testing.T, ps []sfutest.Packet) {
	t.Helper()
	for i := 1; i < len(ps); i++ {
		// A switch in the middle of the old source's frame leaves one
		// number unused (munger.go): only there, and only one.
		a, _ := ps[i-1].Tag()
		b, _ := ps[i].Tag()
		switched := a.Member != b.Member || a.Layer != b.Layer
		cut := switched && !ps[i-1].Marker && ps[i].Seq == ps[i-1].Seq+2
		if ps[i].Seq != ps[i-1].Seq+1 && !cut {
			t.Fatalf("sequence number %d after %d (packet %d of %d)", ps[i].Seq, ps[i-1].Seq, i, len(ps))
		}
		if int32(ps[i].TS-ps[i-1].TS) < 0 {
			t.Fatalf("timestamp %d after %d (packet %d)", ps[i].TS, ps[i-1].TS, i)
		}
		if ps[i].SSRC != ps[0].SSRC {
			t.Fatalf("SSRC changed from %d to %d", ps[0].SSRC, ps[i].SSRC)
		}
	}
}

// firstFrom returns the index of the first packet whose tag names
// member (and layer, unless ""), or -1.
func firstFrom(ps []sfutest.Packet, member, layer string) int {
	return slices.IndexFunc(ps, func(p sfutest.Packet) bool {
		tag, ok := p.Tag()
		return ok && tag.Member == member && (layer == "" || tag.Layer == layer)
	})
}

// checkSwitch checks the switch at index i: the packet is the start of a
// key frame, the slot's numbering runs on through it (PictureID and
// TL0PICIDX by one), and nothing from before comes after it.
func checkSwitch(t *testing.T, ps []sfutest.Packet, i int, oldMember, oldLayer string) {
	t.Helper()
	if i <= 0 {
		t.Fatalf("switch at packet %d: nothing before it", i)
	}
	if !ps[i].KeyStart() {
		t.Fatalf("the first packet of the new source is not the start of a key frame")
	}
	prev, next := ps[i-1].VP8, ps[i].VP8
	if next.PictureID != (prev.PictureID+1)&0x7fff || next.TL0PICIDX != prev.TL0PICIDX+1 {
		t.Errorf("PictureID %d→%d, TL0PICIDX %d→%d across the switch; want each +1", prev.PictureID, next.PictureID, prev.TL0PICIDX, next.TL0PICIDX)
	}
	for _, p := range ps[i:] {
		if tag, _ := p.Tag(); tag.Member == oldMember && (oldLayer == "" || tag.Layer == oldLayer) {
			t.Fatalf("a packet of the old source came after the switch")
		}
	}
	for _, p := range ps {
		if !sfutest.Intact(p.Body, true) {
			t.Fatalf("payload altered")
		}
	}
}

// A pinned member replaces the one in the only video slot at its next
// key frame, not before: the slot keeps forwarding the old member until
// the key frame comes (here 300 ms after the relay asks), and its
// sequence numbers, timestamps and VP8 picture numbering run on through
// the switch.
func TestSwitchWaitsForKeyFrame(t *testing.T) {
	h := newHarness(t, nil)
	media := sfutest.MediaConfig{KeyframeDelay: 300 * time.Millisecond}
	a := h.join(sfutest.Options{Member: member(0), Camera: true})
	b := h.join(sfutest.Options{Member: member(1), Camera: true})
	sub := h.join(sfutest.Options{Member: "viewer/dev", VideoSlots: 1})
	start := time.Now()
	a.Start(media)
	b.Start(media)
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(sub, "rv", 300*time.Millisecond)
		return sameSet(got, member(0)), "video from " + keysOf(got)
	})
	plisBefore := b.PLIs(false, "")
	pinned := time.Now()
	if err := sub.SendPrefs(member(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(sub, "rv", 200*time.Millisecond)
		return sameSet(got, member(1)), "video from " + keysOf(got)
	})
	ps := byArrival(sub.Packets("rv0", start))
	i := firstFrom(ps, member(1), "")
	checkContinuous(t, ps)
	checkSwitch(t, ps, i, member(0), "")
	held := 0
	for _, p := range ps[:i] {
		if p.At.After(pinned.Add(100 * time.Millisecond)) {
			held++
		}
	}
	if held < 2 {
		t.Errorf("%d packets of the old member between the pin and the key frame; want it forwarded while waiting", held)
	}
	if b.PLIs(false, "") == plisBefore {
		t.Errorf("the relay did not ask the new source for a key frame")
	}
	if st := h.relay.Stats(); st.SlotSwitches < 1 {
		t.Errorf("stats: %d slot switches", st.SlotSwitches)
	}
}

// A burst of ten PLIs from a subscriber reaches the source once; the
// rest are counted as suppressed.
func TestPLIRateLimited(t *testing.T) {
	h := newHarness(t, nil)
	a := h.join(sfutest.Options{Member: member(0), Camera: true})
	sub := h.join(sfutest.Options{Member: "viewer/dev", VideoSlots: 1})
	a.Start(sfutest.MediaConfig{})
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(sub, "rv", 300*time.Millisecond)
		return sameSet(got, member(0)), "video from " + keysOf(got)
	})
	time.Sleep(700 * time.Millisecond) // past the spacing of the relay's own request
	before, st := a.PLIs(false, ""), h.relay.Stats()
	if err := sub.SendPLI("rv0", 10); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() (bool, string) {
		now := h.relay.Stats()
		return now.PLIForwarded+now.PLISuppressed-st.PLIForwarded-st.PLISuppressed == 10, "PLIs not all seen by the relay"
	})
	time.Sleep(100 * time.Millisecond)
	if got := a.PLIs(false, "") - before; got != 1 {
		t.Errorf("source got %d PLIs from a burst of 10, want 1", got)
	}
	now := h.relay.Stats()
	if f, s := now.PLIForwarded-st.PLIForwarded, now.PLISuppressed-st.PLISuppressed; f != 1 || s != 9 {
		t.Errorf("stats: %d forwarded, %d suppressed; want 1 and 9", f, s)
	}
}
