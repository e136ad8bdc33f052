package mailbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

// fakeMediaRelay answers every offer it is handed, and remembers whose.
type fakeMediaRelay struct {
	mu     sync.Mutex
	joined []string
	fail   error
}

func (f *fakeMediaRelay) Join(_ context.Context, meetingID []byte, user, device, offer string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.joined = append(f.joined, fmt.Sprintf("%x %s/%s %s", meetingID, user, device, offer))
	return "answer to " + offer, nil
}

func (f *fakeMediaRelay) joins() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.joined...)
}

func TestRelayConnectDisabled(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	_, err := s.node.Client.RelayConnect(context.Background(), s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "offer"))
	wantReason(t, err, codes.Unimplemented, mailboxv1.ReasonMediaRelayDisabled, "no media relay")
}

// TestRelayConnect: only an active device of the meeting's current
// roster, with a fresh, unreplayed request signed over its own offer,
// reaches the relay.
func TestRelayConnect(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	mr := &fakeMediaRelay{}
	bob := s.keys.Add("bob", "phone")
	carol := s.keys.Add("carol", "tablet")
	s.keys.Revoke("carol", "tablet")
	rosters := fakeRosters{members: map[ids.DeviceRef]bool{
		{User: "alice", Device: "laptop"}: true, {User: "carol", Device: "tablet"}: true,
	}}
	if err := s.node.EnableMediaRelay(mr, mailbox.MediaRelayConfig{Rosters: rosters}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok := s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "alice's offer")
	resp, err := s.node.Client.RelayConnect(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if resp.AnswerSdp != "answer to alice's offer" {
		t.Errorf("answer %q", resp.AnswerSdp)
	}
	swapped := s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "alice's offer")
	swapped.OfferSdp = "an offer someone else wrote"
	otherMeeting := s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "offer")
	otherMeeting.MeetingId = make([]byte, 16)
	cases := []struct {
		name   string
		req    *mailboxv1.RelayConnectRequest
		code   codes.Code
		reason string
		substr string
	}{
		{"replayed", ok, codes.PermissionDenied, mailboxv1.ReasonReplayedRequest, "used at this node already"},
		{"offer swapped after signing", swapped, codes.PermissionDenied, mailboxv1.ReasonBadSignature, ""},
		{"signature for another meeting", otherMeeting, codes.PermissionDenied, mailboxv1.ReasonBadSignature, ""},
		{"registered but not in the roster", bob.RelayConnectRequest(s.clock.Now(), meetingA, "offer"), codes.PermissionDenied, mailboxv1.ReasonNotMember, "bob/phone is not in the current epoch"},
		{"in the roster but revoked", carol.RelayConnectRequest(s.clock.Now(), meetingA, "offer"), codes.PermissionDenied, mailboxv1.ReasonUnknownSender, "carol/tablet"},
		{"stranger", mailboxtest.NewKeys().Add("mallory", "laptop").RelayConnectRequest(s.clock.Now(), meetingA, "offer"), codes.PermissionDenied, mailboxv1.ReasonUnknownSender, "mallory/laptop"},
		{"stale", s.alice.RelayConnectRequest(s.clock.Now().Add(-time.Minute), meetingA, "offer"), codes.InvalidArgument, mailboxv1.ReasonStaleRequest, "check the device's clock"},
		{"no offer", s.alice.RelayConnectRequest(s.clock.Now(), meetingA, ""), codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "offer_sdp"},
		{"no meeting", s.alice.RelayConnectRequest(s.clock.Now(), nil, "offer"), codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "meeting_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.node.Client.RelayConnect(ctx, c.req)
			wantReason(t, err, c.code, c.reason, c.substr)
		})
	}
	if got := mr.joins(); len(got) != 1 {
		t.Errorf("the relay was handed %d offers, want only alice's first: %q", len(got), got)
	}

	mr.fail = fmt.Errorf("%w: 17 video slots", mailboxv1.ErrBadOffer)
	_, err = s.node.Client.RelayConnect(ctx, s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "offer"))
	wantReason(t, err, codes.InvalidArgument, mailboxv1.ReasonBadOffer, "17 video slots")
	mr.fail = fmt.Errorf("%w: 200 sessions", mailboxv1.ErrRelayFull)
	_, err = s.node.Client.RelayConnect(ctx, s.alice.RelayConnectRequest(s.clock.Now(), meetingA, "offer"))
	wantReason(t, err, codes.ResourceExhausted, mailboxv1.ReasonRelayFull, "200 sessions")
}
