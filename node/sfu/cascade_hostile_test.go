package sfu_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

func announce(meeting []byte, serving bool) []byte {
	b, _ := (&cascadev1.Message{Body: &cascadev1.Message_Announce{Announce: &cascadev1.Announce{MeetingId: meeting, Serving: serving}}}).Marshal()
	return b
}

func offer(meeting []byte, link uint64, sdp string) []byte {
	b, _ := (&cascadev1.Message{Body: &cascadev1.Message_Offer{Offer: &cascadev1.Signal{MeetingId: meeting, Link: link, Sdp: sdp}}}).Marshal()
	return b
}

// sdpWith is an offer's SDP with n m-lines of the given direction.
func sdpWith(n int, dir string) string {
	var sb strings.Builder
	sb.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	for i := range n {
		fmt.Fprintf(&sb, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\na=%s\r\na=rtpmap:96 VP8/90000\r\n", i, dir)
	}
	return sb.String()
}

// A peer that sends junk, floods announces of thousands of meetings,
// offers what the contract refuses, or comes under hundreds of IDs gets
// errors and bounded state, and cannot stop honest relays from linking —
// those it knew and one that comes after.
func TestCascadeHostilePeer(t *testing.T) {
	ms := newMesh(t, 3)
	a := ms.relays[0]
	watcher := ms.join(0, sfutest.Options{Member: member(0), Camera: true, VideoSlots: 3})
	honest := ms.join(1, sfutest.Options{Member: member(1), Camera: true})
	watcher.Start(sfutest.MediaConfig{})
	honest.Start(sfutest.MediaConfig{})
	eventually(t, 10*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(1)), "the watcher sees " + keysOf(got)
	})

	expect := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	const evil = "evil"
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		junk := make([]byte, rng.IntN(400))
		for j := range junk {
			junk[j] = byte(rng.IntN(256))
		}
		if err := a.HandlePeer(evil, junk); err != nil && !errors.Is(err, sfu.ErrBadPeerMessage) && !errors.Is(err, sfu.ErrPeerLimit) {
			t.Fatalf("junk %d: %v", i, err)
		}
	}
	big := strings.Repeat("a", cascadev1.MaxSDPSize+1)
	expect("an SDP too large", a.HandlePeer(evil, offer(ms.meeting, 1, big)), sfu.ErrBadPeerMessage)
	expect("a message too large", a.HandlePeer(evil, make([]byte, cascadev1.MaxMessageSize+1)), sfu.ErrBadPeerMessage)
	expect("no meeting", a.HandlePeer(evil, announce(nil, true)), sfu.ErrBadPeerMessage)
	expect("link 0", a.HandlePeer(evil, offer(ms.meeting, 0, "v=0")), sfu.ErrBadPeerMessage)
	expect("no body", a.HandlePeer(evil, []byte{}), sfu.ErrBadPeerMessage)
	expect("no peer ID", a.HandlePeer("", announce(ms.meeting, true)), sfu.ErrBadPeerMessage)

	// Thousands of meetings: none is kept (the relay keeps only those it
	// serves), and past the burst the peer is cut to its rate.
	limited := 0
	for i := range 5000 {
		if err := a.HandlePeer(evil, announce([]byte(fmt.Sprintf("elsewhere-%d", i)), true)); errors.Is(err, sfu.ErrPeerLimit) {
			limited++
		}
	}
	if limited < 3000 {
		t.Errorf("%d of 5000 announces refused by the rate limit; want most past the burst of 1000", limited)
	}
	if st := a.Stats(); st.PeerMeetings != 1 {
		t.Errorf("after thousands of announces the relay keeps %d (peer, meeting) pairs; want 1 (the honest relay's)", st.PeerMeetings)
	}

	// Offers the contract refuses, for the meeting the relay serves:
	// each ends its link; none is answered.
	time.Sleep(2 * time.Second) // the announce rate refills
	if err := a.HandlePeer(evil, announce(ms.meeting, true)); err != nil {
		t.Fatal(err)
	}
	for i, sdp := range []string{
		"not an SDP",
		sdpWith(1000, "sendonly"),
		sdpWith(2, "recvonly"),
		sdpWith(2, "sendonly"), // no ICE credentials: pion refuses it
	} {
		if err := a.HandlePeer(evil, offer(ms.meeting, uint64(i+1), sdp)); err != nil {
			t.Fatalf("offer %d: %v", i, err)
		}
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		st := a.Stats()
		return st.PullLinks == 1, fmt.Sprintf("%d pull links; want only the honest relay's", st.PullLinks)
	})

	// Hundreds of IDs: at most maxPeers kept, and peers with nothing
	// kept make room, so a relay that comes afterwards still links.
	for i := range 300 {
		_ = a.HandlePeer(fmt.Sprintf("sybil-%d", i), announce([]byte("elsewhere"), true))
	}
	if st := a.Stats(); st.Peers > 256 {
		t.Errorf("%d peers kept; want at most 256", st.Peers)
	}
	late := ms.join(2, sfutest.Options{Member: member(2), Camera: true})
	late.Start(sfutest.MediaConfig{})
	eventually(t, 10*time.Second, func() (bool, string) {
		got := recent(watcher, "rv", 300*time.Millisecond)
		return sameSet(got, member(1), member(2)), "after the attack, the watcher sees " + keysOf(got)
	})
	if st := a.Stats(); st.PeerRefused == 0 || st.Sessions != 1 || st.RemoteMembers != 2 {
		t.Errorf("stats after the attack: %d refused, %d sessions, %d remote members", st.PeerRefused, st.Sessions, st.RemoteMembers)
	}
	ms.noRefusals()
}
