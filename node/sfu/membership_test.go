package sfu_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// A member StillMember turns away is dropped within a few RecheckEvery:
// its media stop reaching the others and theirs stop reaching it. Drop
// does the same at once.
func TestDroppedMembersStopAtOnce(t *testing.T) {
	const recheck = 100 * time.Millisecond
	var mu sync.Mutex
	revoked := map[string]bool{}
	h := newHarness(t, func(c *sfu.Config) {
		c.RecheckEvery = recheck
		c.StillMember = func(_ context.Context, _ []byte, user, _ string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return !revoked[user], nil
		}
	})
	var clients []*sfutest.Client
	for i := range 3 {
		c := h.join(sfutest.Options{Member: member(i), Audio: true, Camera: true, AudioSlots: 2, VideoSlots: 2})
		c.SetLevel(20)
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.Start(sfutest.MediaConfig{})
	}
	a, b, c := clients[0], clients[1], clients[2]
	eventually(t, 5*time.Second, func() (bool, string) {
		got := recent(a, "r", 300*time.Millisecond)
		return sameSet(got, member(1), member(2)), "a gets media from " + keysOf(got)
	})

	mu.Lock()
	revoked[strings.Split(member(1), "/")[0]] = true
	mu.Unlock()
	revokedAt := time.Now()
	eventually(t, 5*recheck+time.Second, func() (bool, string) {
		return h.relay.Stats().Sessions == 2, "b still has a session"
	})
	if took := time.Since(revokedAt); took > 10*recheck {
		t.Errorf("b dropped %v after StillMember said no; want within a few RecheckEvery (%v)", took, recheck)
	}
	gone := time.Now()
	time.Sleep(600 * time.Millisecond)
	after := gone.Add(100 * time.Millisecond)
	if got := a.Senders("r", after); got[member(1)] > 0 {
		t.Errorf("a got %d packets of b after b was dropped", got[member(1)])
	}
	if got := b.Packets("r", after); len(got) > 0 {
		t.Errorf("b got %d packets after it was dropped", len(got))
	}
	if got := a.Senders("r", after); got[member(2)] == 0 {
		t.Errorf("a stopped getting c's media when b was dropped")
	}

	user, device, _ := strings.Cut(member(2), "/")
	h.relay.Drop(h.meeting, user, device)
	dropped := time.Now()
	if n := h.relay.Stats().Sessions; n != 1 {
		t.Errorf("after Drop, %d sessions; want 1", n)
	}
	time.Sleep(400 * time.Millisecond)
	after = dropped.Add(100 * time.Millisecond)
	if got := a.Senders("r", after); len(got) > 0 {
		t.Errorf("a got media from %v after c was dropped", got)
	}
	if got := c.Packets("r", after); len(got) > 0 {
		t.Errorf("c got %d packets after it was dropped", len(got))
	}
}

// A second Join by the same member replaces its session.
func TestRejoinReplaces(t *testing.T) {
	h := newHarness(t, nil)
	first := h.join(sfutest.Options{Member: member(0), Camera: true})
	sub := h.join(sfutest.Options{Member: "viewer/dev", VideoSlots: 1})
	second := h.join(sfutest.Options{Member: member(0), Camera: true})
	first.Start(sfutest.MediaConfig{})
	second.Start(sfutest.MediaConfig{FrameSize: map[string]int{"": 700}})
	eventually(t, 5*time.Second, func() (bool, string) {
		ps := sub.Packets("rv", time.Now().Add(-300*time.Millisecond))
		if len(ps) == 0 {
			return false, "no video"
		}
		for _, p := range ps {
			if tag, _ := p.Tag(); tag.Size != 700 {
				return false, "video from the first session"
			}
		}
		return true, ""
	})
	if st := h.relay.Stats(); st.Sessions != 2 {
		t.Errorf("%d sessions after a rejoin; want 2", st.Sessions)
	}
}
