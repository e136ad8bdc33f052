package sfu_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// Four members on two relays: each receives the other three's audio and
// video byte for byte, never its own; each opaque message reaches every
// other member exactly once; a PLI from a subscriber for a member of the
// other relay reaches that member, rate-limited.
func TestCascadeForwardsAcrossRelays(t *testing.T) {
	ms := newMesh(t, 2)
	var clients []*sfutest.Client
	var names []string
	for i := range 4 {
		c := ms.join(i/2, sfutest.Options{Member: member(i), Audio: true, Camera: true, AudioSlots: 3, VideoSlots: 3})
		c.SetLevel(uint8(20 + 5*i))
		clients = append(clients, c)
		names = append(names, member(i))
	}
	start := time.Now()
	for _, c := range clients {
		c.Start(sfutest.MediaConfig{FrameSize: map[string]int{"": 1500}})
	}
	for _, c := range clients {
		want := others(names, c.Member)
		eventually(t, 10*time.Second, func() (bool, string) {
			a, v := c.Senders("ra", start), c.Senders("rv", start)
			return sameSet(a, want...) && sameSet(v, want...), c.Member + " gets audio from " + keysOf(a) + ", video from " + keysOf(v)
		})
	}
	time.Sleep(300 * time.Millisecond)
	for _, c := range clients {
		checkIntactNeverOwn(t, c, start)
	}

	// Opaque messages, as frame signatures go: each member's reach the
	// three others once, over the link for the other relay's two.
	for i, c := range clients {
		for k := range 5 {
			if err := c.DC.Send([]byte(fmt.Sprintf("\x03sig %d %d", i, k))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range clients {
		eventually(t, 3*time.Second, func() (bool, string) {
			return len(c.Messages(0x03)) >= 15, fmt.Sprintf("%s got %d opaque messages, want 15", member(i), len(c.Messages(0x03)))
		})
	}
	time.Sleep(300 * time.Millisecond)
	for i, c := range clients {
		seen := map[string]int{}
		for _, m := range c.Messages(0x03) {
			seen[string(m)]++
		}
		for j := range clients {
			for k := range 5 {
				msg := fmt.Sprintf("\x03sig %d %d", j, k)
				want := 1
				if i == j {
					want = 0
				}
				if seen[msg] != want {
					t.Errorf("%s got %q %d times, want %d", member(i), msg, seen[msg], want)
				}
			}
		}
	}

	// member(2), on relay 1, asks for a key frame of member(0), on relay
	// 0: the request crosses the link and reaches member(0) once.
	sub, pub := clients[2], clients[0]
	var mid string
	eventually(t, 2*time.Second, func() (bool, string) {
		for m, info := range sub.Slots() {
			if strings.HasPrefix(m, "rv") && info.Member == member(0) {
				mid = m
				return true, ""
			}
		}
		return false, fmt.Sprintf("no video slot of %s says %s: %v", sub.Member, member(0), sub.Slots())
	})
	time.Sleep(700 * time.Millisecond) // past the spacing of any earlier request
	before := pub.PLIs(false, "")
	if err := sub.SendPLI(mid, 10); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() (bool, string) {
		return pub.PLIs(false, "") > before, "the PLI did not reach the publisher on the other relay"
	})
	time.Sleep(200 * time.Millisecond)
	if got := pub.PLIs(false, "") - before; got > 2 {
		t.Errorf("publisher got %d PLIs from a burst of 10 across the link, want 1 (2 at most, with one of the relay's own)", got)
	}

	for i, r := range ms.relays {
		st := r.Stats()
		if st.Sessions != 2 || st.RemoteMembers != 2 || st.PushLinks != 1 || st.PullLinks != 1 {
			t.Errorf("relay %d: %d sessions, %d remote members, %d push and %d pull links; want 2, 2, 1, 1", i, st.Sessions, st.RemoteMembers, st.PushLinks, st.PullLinks)
		}
		if st.BridgedPackets == 0 || st.OpaqueBridged != 10 {
			t.Errorf("relay %d: %d packets and %d opaque messages bridged; want some and 10", i, st.BridgedPackets, st.OpaqueBridged)
		}
	}
	ms.noRefusals()
}

// Three relays, one member on each: every packet and every opaque
// message reaches each other member exactly once — no relay passes on
// what came from another, so nothing loops or doubles.
func TestCascadeThreeRelaysEachPacketOnce(t *testing.T) {
	ms := newMesh(t, 3)
	var clients []*sfutest.Client
	var names []string
	for i := range 3 {
		c := ms.join(i, sfutest.Options{Member: member(i), Audio: true, Camera: true, AudioSlots: 2, VideoSlots: 2})
		c.SetLevel(20)
		clients = append(clients, c)
		names = append(names, member(i))
	}
	start := time.Now()
	for _, c := range clients {
		c.Start(sfutest.MediaConfig{})
	}
	for _, c := range clients {
		want := others(names, c.Member)
		eventually(t, 10*time.Second, func() (bool, string) {
			a, v := c.Senders("ra", start), c.Senders("rv", start)
			return sameSet(a, want...) && sameSet(v, want...), c.Member + " gets audio from " + keysOf(a) + ", video from " + keysOf(v)
		})
	}
	for i, c := range clients {
		if err := c.DC.Send([]byte(fmt.Sprintf("\x03only once from %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	for _, c := range clients {
		checkIntactNeverOwn(t, c, start)
		seen := map[string]bool{}
		for _, p := range c.Packets("r", start) {
			tag, _ := p.Tag()
			k := fmt.Sprintf("%s %s %d %d", tag.Member, tag.Kind, tag.Frame, tag.Part)
			if seen[k] {
				t.Fatalf("%s got %s twice", c.Member, k)
			}
			seen[k] = true
		}
		msgs := c.Messages(0x03)
		slices.SortFunc(msgs, bytes.Compare)
		if len(msgs) != 2 || bytes.Equal(msgs[0], msgs[1]) {
			t.Errorf("%s got opaque messages %q; want one from each other member", c.Member, msgs)
		}
	}
	for i, r := range ms.relays {
		st := r.Stats()
		if st.RemoteMembers != 2 || st.PushLinks != 2 || st.PullLinks != 2 || st.Peers != 2 {
			t.Errorf("relay %d: %d remote members, %d push and %d pull links, %d peers; want 2 each", i, st.RemoteMembers, st.PushLinks, st.PullLinks, st.Peers)
		}
		if st.OpaqueBridged != 2 {
			t.Errorf("relay %d bridged %d opaque messages; want its member's one to each of 2 peers", i, st.OpaqueBridged)
		}
	}
	ms.noRefusals()
}

// Last-N and the loudest three are chosen among the members of both
// relays: listeners on each relay hear exactly the three loudest, two of
// them on the other relay; a viewer's two video slots take the loudest
// speaker and, once pinned, a silent member of the other relay.
func TestCascadeLastNAndLoudestThree(t *testing.T) {
	ms := newMesh(t, 2)
	// -dBov, lower is louder: user0 and user1 (relay 0) and user3 (relay
	// 1) are the loudest three; user2 is quieter, user4 silent. user0 is
	// loud enough to take over as dominant speaker from anyone.
	levels := []uint8{10, 30, 55, 40, 127}
	var pubs []*sfutest.Client
	for i, l := range levels {
		c := ms.join(min(i/3, 1), sfutest.Options{Member: member(i), Audio: true, Camera: true})
		c.SetLevel(l)
		pubs = append(pubs, c)
	}
	listeners := []*sfutest.Client{
		ms.join(0, sfutest.Options{Member: "listener0/dev", AudioSlots: 3}),
		ms.join(1, sfutest.Options{Member: "listener1/dev", AudioSlots: 3}),
	}
	viewer := ms.join(1, sfutest.Options{Member: "viewer/dev", VideoSlots: 2})
	for _, c := range pubs {
		c.Start(sfutest.MediaConfig{})
	}
	loudest := []string{member(0), member(1), member(3)}
	for _, l := range listeners {
		eventually(t, 10*time.Second, func() (bool, string) {
			got := recent(l, "ra", 400*time.Millisecond)
			return sameSet(got, loudest...), l.Member + " hears " + keysOf(got)
		})
	}
	time.Sleep(time.Second)
	for _, l := range listeners {
		if got := recent(l, "ra", time.Second); !sameSet(got, loudest...) {
			t.Errorf("over the last second, %s heard %v; want only %v", l.Member, got, loudest)
		}
		for _, p := range l.Packets("ra", time.Now().Add(-time.Second)) {
			if !p.HasLevel {
				t.Fatalf("%s: audio on %s without its level extension", l.Member, p.Mid)
			}
		}
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(viewer, "rv", 400*time.Millisecond)
		return len(got) == 2 && got[member(0)] > 0, "the viewer sees " + keysOf(got) + "; want two, the loudest speaker " + member(0) + " among them"
	})
	if err := viewer.SendPrefs(member(4)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(viewer, "rv", 400*time.Millisecond)
		return len(got) == 2 && got[member(4)] > 0 && got[member(0)] > 0, "after the pin, the viewer sees " + keysOf(got)
	})
	eventually(t, time.Second, func() (bool, string) {
		got := viewer.Slots()
		names := map[string]int{got["rv0"].Member: 1, got["rv1"].Member: 1}
		return sameSet(names, member(4), member(0)), "slots message " + keysOf(names)
	})
	ms.noRefusals()
}

// A simulcast camera on one relay reaches a viewer on the other with all
// its layers: the viewer's relay moves it from full to quarter and back
// as its estimate falls and rises, at key frames, its numbering running
// on.
func TestCascadeSimulcastLayersCross(t *testing.T) {
	ms := newMesh(t, 2)
	var estimate atomic.Int64
	estimate.Store(5_000_000)
	sfu.SetEstimate(ms.relays[1], func(string) int { return int(estimate.Load()) })
	pub := ms.join(0, sfutest.Options{Member: member(0), Camera: true, Simulcast: true})
	sub := ms.join(1, sfutest.Options{Member: "viewer/dev", VideoSlots: 1})
	start := time.Now()
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
	eventually(t, 10*time.Second, layerIs("f"))
	time.Sleep(1200 * time.Millisecond)
	estimate.Store(80_000)
	eventually(t, 5*time.Second, layerIs("q"))
	estimate.Store(5_000_000)
	eventually(t, 5*time.Second, layerIs("f"))
	ps := byArrival(sub.Packets("rv0", start))
	checkContinuous(t, ps)
	down := firstFrom(ps, member(0), "q")
	up := firstFromAfter(ps, down, "f")
	checkSwitch(t, ps[:up], down, member(0), "f")
	checkSwitch(t, ps, up, member(0), "q")
	ms.noRefusals()
}

// A relay renegotiates its push link as its own members come and go; one
// that stops serving the meeting takes its members away from the other
// relay within a round; one that goes away, at once.
func TestCascadeMembersComeAndRelaysGo(t *testing.T) {
	ms := newMesh(t, 2)
	a, b := ms.relays[0], ms.relays[1]
	watcher := ms.join(0, sfutest.Options{Member: member(0), Audio: true, Camera: true, VideoSlots: 3})
	first := ms.join(1, sfutest.Options{Member: member(1), Camera: true, VideoSlots: 3})
	watcher.Start(sfutest.MediaConfig{})
	first.Start(sfutest.MediaConfig{})
	eventually(t, 10*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(1)), "the watcher sees " + keysOf(got)
	})

	// A second member of relay 1 comes: the link is offered again and
	// carries it; then it goes, and only it stops.
	second := ms.join(1, sfutest.Options{Member: member(2), Camera: true})
	second.Start(sfutest.MediaConfig{})
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(1), member(2)), "with a second member on relay 1, the watcher sees " + keysOf(got)
	})
	user, device, _ := strings.Cut(member(2), "/")
	b.Drop(ms.meeting, user, device)
	dropped := time.Now()
	time.Sleep(400 * time.Millisecond)
	if got := watcher.Senders("rv", dropped.Add(100*time.Millisecond)); got[member(2)] > 0 {
		t.Errorf("the watcher on the other relay got %d packets of a member after Drop", got[member(2)])
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(1)) && a.Stats().RemoteMembers == 1, "after the second left relay 1, the watcher sees " + keysOf(got)
	})

	// Relay 1's last member leaves: relay 1 stops serving, and relay 0
	// drops the links and the remote member.
	user, device, _ = strings.Cut(member(1), "/")
	b.Drop(ms.meeting, user, device)
	eventually(t, time.Second, func() (bool, string) {
		st := a.Stats()
		return st.RemoteMembers == 0 && st.PushLinks == 0 && st.PullLinks == 0,
			fmt.Sprintf("relay 0 keeps %d remote members, %d push and %d pull links", st.RemoteMembers, st.PushLinks, st.PullLinks)
	})

	// A member comes back to relay 1: bridged again. Then relay 1's node
	// goes away: its member leaves relay 0's meeting before PeerGone
	// returns.
	back := ms.join(1, sfutest.Options{Member: member(3), Camera: true})
	back.Start(sfutest.MediaConfig{})
	eventually(t, 10*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(3)), "after relay 1 serves again, the watcher sees " + keysOf(got)
	})
	ms.net.Detach(ms.ids[1])
	gone := time.Now()
	if st := a.Stats(); st.RemoteMembers != 0 || st.PushLinks != 0 || st.PullLinks != 0 || st.Peers != 0 {
		t.Errorf("when relay 1 went away, relay 0 kept %d remote members, %d push and %d pull links, %d peers", st.RemoteMembers, st.PushLinks, st.PullLinks, st.Peers)
	}
	time.Sleep(500 * time.Millisecond)
	if got := watcher.Senders("rv", gone.Add(100*time.Millisecond)); len(got) > 0 {
		t.Errorf("after relay 1 went away, the watcher got video from %v", got)
	}
	ms.noRefusals()
}

// A relay that closes drains: its media stop going to the other relay at
// once, while for a moment its members' opaque messages (the signatures
// of the last frames the others got) still do.
func TestCascadeCloseDrains(t *testing.T) {
	ms := newMesh(t, 2)
	pub := ms.join(0, sfutest.Options{Member: member(0), Audio: true, Camera: true})
	sub := ms.join(1, sfutest.Options{Member: member(1), AudioSlots: 1, VideoSlots: 1})
	pub.SetLevel(20)
	pub.Start(sfutest.MediaConfig{})
	eventually(t, 10*time.Second, func() (bool, string) {
		got := recent(sub, "r", 300*time.Millisecond)
		return sameSet(got, member(0)), "the subscriber gets media from " + keysOf(got)
	})
	closing := time.Now()
	closed := make(chan struct{})
	go func() {
		_ = ms.relays[0].Close()
		close(closed)
	}()
	time.Sleep(300 * time.Millisecond)
	if err := pub.DC.Send([]byte("\x03last signatures")); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, func() (bool, string) {
		for _, m := range sub.Messages(0x03) {
			if string(m) == "\x03last signatures" {
				return true, ""
			}
		}
		return false, "the message sent while the relay drained did not arrive"
	})
	<-closed
	if got := sub.Senders("r", closing.Add(100*time.Millisecond)); len(got) > 0 {
		t.Errorf("media from %v reached the other relay after the relay began to close", got)
	}
	ms.noRefusals()
}
