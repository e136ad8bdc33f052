package cascadev1_test

import (
	"strings"
	"testing"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
)

// The largest message within the field bounds fits MaxMessageSize, the
// bound the p2p channel and the relay hold messages to.
func TestLargestMessageFits(t *testing.T) {
	sig := &cascadev1.Signal{
		MeetingId: make([]byte, cascadev1.MaxMeetingIDSize),
		Link:      ^uint64(0),
		Sdp:       strings.Repeat("a", cascadev1.MaxSDPSize),
	}
	for _, m := range []*cascadev1.Message{
		{Body: &cascadev1.Message_Offer{Offer: sig}},
		{Body: &cascadev1.Message_Answer{Answer: sig}},
		{Body: &cascadev1.Message_Announce{Announce: &cascadev1.Announce{MeetingId: make([]byte, cascadev1.MaxMeetingIDSize), Serving: true}}},
	} {
		if n := m.Size(); n > cascadev1.MaxMessageSize {
			t.Errorf("%T: %d bytes, MaxMessageSize %d", m.Body, n, cascadev1.MaxMessageSize)
		}
	}
}
