package sfu_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// Offers that break the wire contract are refused with ErrBadOffer
// naming what is wrong; requests with bad IDs with ErrBadRequest.
func TestBadOffersRefused(t *testing.T) {
	h := newHarness(t, nil)
	offer := func(opts sfutest.Options) string {
		t.Helper()
		c, err := sfutest.NewClient(opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sdp, err := c.Offer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sdp
	}
	good := offer(sfutest.Options{Member: member(0), Audio: true, Camera: true, VideoSlots: 2})
	for _, tc := range []struct {
		name, user, sdp string
		want            error
		says            string
	}{
		{"garbage", "user0", "hello, relay", sfu.ErrBadOffer, "does not parse"},
		{"17 video slots", "user0", offer(sfutest.Options{Member: member(0), VideoSlots: 17}), sfu.ErrBadOffer, "at most 16"},
		{"unknown mid", "user0", offer(sfutest.Options{Member: member(0), VideoSlots: 1, ExtraMids: []string{"zz"}}), sfu.ErrBadOffer, `"zz"`},
		{"gap in slots", "user0", offer(sfutest.Options{Member: member(0), ExtraMids: []string{"rv1"}}), sfu.ErrBadOffer, "rv1"},
		{"no data channel", "user0", offer(sfutest.Options{Member: member(0), Camera: true, NoDataChannel: true}), sfu.ErrBadOffer, "data channel"},
		{"wrong codec", "user0", strings.ReplaceAll(good, "VP8/90000", "H264/90000"), sfu.ErrBadOffer, "H264"},
		{"too large", "user0", good + strings.Repeat("a=x\r\n", 20000), sfu.ErrBadOffer, "bytes"},
		{"bad user", "User/0", good, sfu.ErrBadRequest, "user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := h.relay.Join(ctx, sfu.JoinRequest{MeetingID: h.meeting, User: tc.user, Device: "dev", OfferSDP: tc.sdp})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Join: %v; want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
	if st := h.relay.Stats(); st.Sessions != 0 {
		t.Errorf("%d sessions after refused joins", st.Sessions)
	}
}

// A client that floods opaque messages gets its burst and its rate
// through, no more; junk on the data channel changes nothing.
func TestHostileDataChannel(t *testing.T) {
	h := newHarness(t, nil)
	a := h.join(sfutest.Options{Member: member(0), Camera: true, VideoSlots: 1})
	b := h.join(sfutest.Options{Member: member(1), Camera: true, VideoSlots: 1})
	a.Start(sfutest.MediaConfig{})
	b.Start(sfutest.MediaConfig{})

	// Opaque messages go to the members receiving the sender's media:
	// wait until b's slot forwards a's camera.
	eventually(t, 10*time.Second, func() (bool, string) {
		got := b.Senders("rv", time.Time{})
		return got[member(0)] > 0, fmt.Sprintf("b's video slot carries %v", got)
	})
	msg := append([]byte{0x03}, bytes.Repeat([]byte("sig"), 30)...)
	start := time.Now()
	for range 1000 {
		if err := a.DC.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	got := b.Messages(0x03)
	limit := 100 + int(50*(sent+500*time.Millisecond).Seconds()) + 5
	if len(got) < 100 || len(got) > limit {
		t.Errorf("b got %d of 1000 opaque messages sent in %v; want 100 to %d", len(got), sent, limit)
	}
	for _, m := range got {
		if !bytes.Equal(m, msg) {
			t.Fatalf("opaque message altered")
		}
	}
	if len(a.Messages(0x03)) != 0 {
		t.Errorf("the sender got its own opaque messages back")
	}
	if st := h.relay.Stats(); st.OpaqueDropped < uint64(1000-len(got)) {
		t.Errorf("stats: %d opaque messages dropped, want at least %d", st.OpaqueDropped, 1000-len(got))
	}

	rng := rand.New(rand.NewPCG(1, 2))
	junk := [][]byte{
		{0x02}, []byte("\x02{"), []byte("\x02{\"pin\":[1,2]}"), []byte("\x02{\"pin\":\"x\"}"),
		append([]byte("\x02{\"pin\":["), bytes.Repeat([]byte("\"a/b\","), 3000)...),
		[]byte("\x01{\"slots\":{}}"), {0xff}, {0x00, 0x01},
		append([]byte{0x03}, make([]byte, 17<<10)...),
	}
	for range 200 {
		j := make([]byte, rng.IntN(300))
		for i := range j {
			j[i] = byte(rng.IntN(256))
		}
		junk = append(junk, j)
	}
	for _, j := range junk {
		if len(j) == 0 {
			continue
		}
		if err := a.DC.Send(j); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	eventually(t, 3*time.Second, func() (bool, string) {
		got := recent(b, "rv", 300*time.Millisecond)
		return sameSet(got, member(0)), "after junk, b gets video from " + keysOf(got)
	})
	if st := h.relay.Stats(); st.Sessions != 2 {
		t.Errorf("%d sessions after junk; want 2", st.Sessions)
	}
}
