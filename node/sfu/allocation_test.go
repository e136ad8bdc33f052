package sfu_test

import (
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu/sfutest"
)

// recent is the members whose packets reached c on slots with prefix in
// the last window.
func recent(c *sfutest.Client, prefix string, window time.Duration) map[string]int {
	return c.Senders(prefix, time.Now().Add(-window))
}

// Last-N: of five members publishing video, a subscriber with two video
// slots gets exactly two, first by join order; a pin takes a slot; the
// member who speaks loudest displaces a quiet one.
func TestLastN(t *testing.T) {
	h := newHarness(t, nil)
	var pubs []*sfutest.Client
	for i := range 5 {
		pubs = append(pubs, h.join(sfutest.Options{Member: member(i), Audio: true, Camera: true}))
	}
	sub := h.join(sfutest.Options{Member: "viewer/dev", VideoSlots: 2})
	for _, c := range pubs {
		c.Start(sfutest.MediaConfig{})
	}
	expect := func(want ...string) {
		t.Helper()
		eventually(t, 5*time.Second, func() (bool, string) {
			got := recent(sub, "rv", 400*time.Millisecond)
			return sameSet(got, want...), "video from " + keysOf(got) + ", want " + keysOf(setOf(want...))
		})
	}
	expect(member(0), member(1))
	if err := sub.SendPrefs(member(3)); err != nil {
		t.Fatal(err)
	}
	expect(member(3), member(0))
	if err := sub.SendPrefs(); err != nil {
		t.Fatal(err)
	}
	pubs[4].SetLevel(10)
	expect(member(4), member(0))
	eventually(t, time.Second, func() (bool, string) {
		got := sub.Slots()
		names := map[string]int{got["rv0"].Member: 1, got["rv1"].Member: 1}
		return sameSet(names, member(4), member(0)), "slots message " + keysOf(names)
	})
}

// Five members with levels set so that three are loud and one more
// speaks softly: a listener with three audio slots gets exactly the
// loudest three.
func TestAudioGoesToLoudestThree(t *testing.T) {
	h := newHarness(t, nil)
	levels := []uint8{55, 127, 30, 10, 45} // -dBov: lower is louder
	var pubs []*sfutest.Client
	for i, l := range levels {
		c := h.join(sfutest.Options{Member: member(i), Audio: true})
		c.SetLevel(l)
		pubs = append(pubs, c)
	}
	sub := h.join(sfutest.Options{Member: "listener/dev", AudioSlots: 3})
	for _, c := range pubs {
		c.Start(sfutest.MediaConfig{})
	}
	want := []string{member(3), member(2), member(4)}
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(sub, "ra", 400*time.Millisecond)
		return sameSet(got, want...), "audio from " + keysOf(got)
	})
	time.Sleep(time.Second)
	if got := recent(sub, "ra", time.Second); !sameSet(got, want...) {
		t.Fatalf("over the last second, audio from %v; want only %v", got, want)
	}
	for _, p := range sub.Packets("ra", time.Now().Add(-time.Second)) {
		if !p.HasLevel {
			t.Fatalf("audio on %s without its level extension", p.Mid)
		}
	}
}

func setOf(names ...string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n] = 1
	}
	return m
}
