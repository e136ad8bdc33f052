package sfu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// A subscriber whose estimate falls below the half layer's rate moves to
// the quarter layer at a key frame; when it rises again, back to full.
// The slot's numbering runs on through both switches.
func TestSimulcastFollowsEstimate(t *testing.T) {
	h := newHarness(t, nil)
	var estimate atomic.Int64
	estimate.Store(5_000_000)
	sfu.SetEstimate(h.relay, func(string) int { return int(estimate.Load()) })

	pub := h.join(sfutest.Options{Member: member(0), Camera: true, Simulcast: true})
	sub := h.join(sfutest.Options{Member: "viewer/dev", VideoSlots: 1})
	start := time.Now()
	// About 40, 110 and 310 kbit/s at 15 frames a second; key frames
	// come 200 ms after they are asked for, so a switch that did not
	// wait for one would show.
	pub.Start(sfutest.MediaConfig{FrameSize: map[string]int{"q": 300, "h": 900, "f": 2500}, KeyframeDelay: 200 * time.Millisecond})
	layerIs := func(want string) func() (bool, string) {
		return func() (bool, string) {
			ps := sub.Packets("rv0", time.Now().Add(-300*time.Millisecond))
			if len(ps) == 0 {
				return false, "no video"
			}
			for _, p := range ps {
				if tag, _ := p.Tag(); tag.Layer != want {
					return false, "layer " + tag.Layer + ", want " + want
				}
			}
			return true, ""
		}
	}
	eventually(t, 5*time.Second, layerIs("f"))
	time.Sleep(1200 * time.Millisecond) // the layers' rates are measured

	estimate.Store(80_000)
	eventually(t, 5*time.Second, layerIs("q"))
	eventually(t, time.Second, func() (bool, string) {
		got := sub.Slots()["rv0"]
		return got == sfutest.SlotInfo{Member: member(0), Layer: "q"}, "slots message says " + got.Member + " " + got.Layer
	})
	estimate.Store(5_000_000)
	eventually(t, 5*time.Second, layerIs("f"))

	ps := byArrival(sub.Packets("rv0", start))
	checkContinuous(t, ps)
	down := firstFrom(ps, member(0), "q")
	checkSwitch(t, ps[:firstFromAfter(ps, down, "f")], down, member(0), "f")
	up := firstFromAfter(ps, down, "f")
	checkSwitch(t, ps, up, member(0), "q")
	if st := h.relay.Stats(); st.LayerSwitches < 2 {
		t.Errorf("stats: %d layer switches, want 2 or more", st.LayerSwitches)
	}
}

// firstFromAfter is the index of the first packet of layer after index
// from.
func firstFromAfter(ps []sfutest.Packet, from int, layer string) int {
	for i := from + 1; i < len(ps); i++ {
		if tag, _ := ps[i].Tag(); tag.Layer == layer {
			return i
		}
	}
	return len(ps)
}
