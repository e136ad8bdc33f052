package sfu

import (
	"bytes"
	"testing"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
)

// FuzzPeerMessage: no bytes from a peer panic the parser; what it takes
// is within the cascade's bounds and encodes back to what it says.
func FuzzPeerMessage(f *testing.F) {
	for _, m := range []peerMsg{
		{kind: peerAnnounce, meeting: []byte("m"), serving: true},
		{kind: peerAnnounce, meeting: bytes.Repeat([]byte{1}, 16)},
		{kind: peerOffer, meeting: []byte("m"), link: 7, sdp: "v=0\r\n"},
		{kind: peerAnswer, meeting: []byte("m"), link: 1 << 63, sdp: "v=0\r\n"},
	} {
		f.Add(m.encode())
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parsePeerMessage(b)
		if err != nil {
			return
		}
		if len(m.meeting) == 0 || len(m.meeting) > cascadev1.MaxMeetingIDSize || len(m.sdp) > cascadev1.MaxSDPSize {
			t.Fatalf("took %d-byte meeting ID and %d-byte SDP", len(m.meeting), len(m.sdp))
		}
		if m.kind != peerAnnounce && (m.link == 0 || m.sdp == "") {
			t.Fatalf("took a signal with link %d and %d bytes of SDP", m.link, len(m.sdp))
		}
		again, err := parsePeerMessage(m.encode())
		if err != nil || again.kind != m.kind || !bytes.Equal(again.meeting, m.meeting) || again.serving != m.serving || again.link != m.link || again.sdp != m.sdp {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, m)
		}
	})
}

// FuzzBridgedMessage: no bytes on a pull link's data channel panic its
// parser; what it takes names a member and is an opaque message within
// the data channel's bound, and wraps back to the same bytes.
func FuzzBridgedMessage(f *testing.F) {
	f.Add(wrapBridged("user0/dev", []byte("\x03sig")))
	f.Add([]byte{0})
	f.Add([]byte{5, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		member, msg, ok := unwrapBridged(b)
		if !ok {
			return
		}
		if member == "" || len(msg) == 0 || msg[0] != msgOpaque || len(msg) > maxMessage {
			t.Fatalf("took member %q and a %d-byte message", member, len(msg))
		}
		if !bytes.Equal(wrapBridged(member, msg), b) {
			t.Fatal("wrap of what was taken differs")
		}
	})
}

// FuzzBridgeOffer: no SDP from a peer panics the check before pion.
func FuzzBridgeOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n")
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, sdp string) {
		_ = checkBridgeOffer(sdp)
	})
}
