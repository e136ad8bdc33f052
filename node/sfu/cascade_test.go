package sfu_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
