package sfu_test

import (
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu/sfutest"
)

// Three members publish audio and video; each receives the other two's
// payloads byte for byte, never its own.
func TestForwardsOthersMediaIntact(t *testing.T) {
	h := newHarness(t, nil)
	var clients []*sfutest.Client
	for i := range 3 {
		c := h.join(sfutest.Options{Member: member(i), Audio: true, Camera: true, AudioSlots: 2, VideoSlots: 2})
		c.SetLevel(uint8(20 + 5*i))
		clients = append(clients, c)
	}
	start := time.Now()
	for _, c := range clients {
		c.Start(sfutest.MediaConfig{FrameSize: map[string]int{"": 1500}})
	}
	for i, c := range clients {
		var others []string
		for j := range clients {
			if j != i {
				others = append(others, member(j))
			}
		}
		eventually(t, 5*time.Second, func() (bool, string) {
			a, v := c.Senders("ra", start), c.Senders("rv", start)
			return sameSet(a, others...) && sameSet(v, others...), "audio from " + keysOf(a) + ", video from " + keysOf(v)
		})
	}
	time.Sleep(300 * time.Millisecond)
	for i, c := range clients {
		for _, p := range c.Packets("r", start) {
			tag, ok := p.Tag()
			if !ok {
				t.Fatalf("%s got a packet on %s without a tag", member(i), p.Mid)
			}
			if tag.Member == member(i) {
				t.Fatalf("%s got its own %s on %s", member(i), tag.Kind, p.Mid)
			}
			video := p.Mid[1] == 'v'
			body := p.Payload
			if video {
				body = p.Body
			}
			if !sfutest.Intact(body, video) {
				t.Fatalf("%s: payload from %s on %s altered", member(i), tag.Member, p.Mid)
			}
		}
	}
	st := h.relay.Stats()
	if st.Sessions != 3 || st.DownTracks != 12 {
		t.Errorf("stats: %d sessions, %d down-tracks; want 3 and 12", st.Sessions, st.DownTracks)
	}
}
