package sfu_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// The answer carries the relay's candidates, sends on every slot,
// receives on every published mid, and takes the simulcast layers.
func TestAnswerFollowsContract(t *testing.T) {
	h := newHarness(t, nil)
	c, err := sfutest.NewClient(sfutest.Options{Member: member(0), Audio: true, Camera: true, Simulcast: true, Screen: true, AudioSlots: 3, VideoSlots: 16, ScreenSlot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := c.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := h.relay.Join(ctx, sfu.JoinRequest{MeetingID: h.meeting, User: "user0", Device: "dev", OfferSDP: offer})
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(answer); err != nil {
		t.Fatal(err)
	}
	mids := 0
	for _, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		if md.MediaName.Media == "application" {
			continue
		}
		mids++
		want := "sendonly"
		if strings.HasPrefix(mid, "p") {
			want = "recvonly"
		}
		if _, ok := md.Attribute(want); !ok {
			t.Errorf("mid %s is not %s in the answer", mid, want)
		}
		if mid == "pv" {
			if sim, _ := md.Attribute("simulcast"); sim != "recv q;h;f" {
				t.Errorf("pv answers simulcast %q", sim)
			}
		}
	}
	if mids != 3+3+16+1 {
		t.Errorf("%d media m-lines answered", mids)
	}
	if !strings.Contains(answer, "a=candidate:") {
		t.Errorf("the answer has no candidates")
	}
	if err := c.Accept(answer); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}
