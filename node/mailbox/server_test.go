package mailbox_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

// serverFixture is one mailbox served over gRPC on loopback.
type serverFixture struct {
	*fixture
	node *mailboxtest.Node
}

func newServerFixture(t *testing.T, cfg mailbox.Config) *serverFixture {
	t.Helper()
	mailboxtest.CheckGoroutines(t)
	f := newFixture(t, mailbox.StoreConfig{}, mailbox.RateConfig{})
	cfg.Keys = f.keys
	cfg.Clock = f.clock
	return &serverFixture{fixture: f, node: mailboxtest.StartNode(t, cfg)}
}

func (s *serverFixture) post(t *testing.T, e *mailboxv1.Envelope) (*mailboxv1.PostResponse, error) {
	t.Helper()
	return s.node.Client.Post(context.Background(), &mailboxv1.PostRequest{Envelope: e})
}

func TestPostThenSubscribe(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stored := s.env(s.alice, r.Hash)
	resp, err := s.post(t, stored)
	if err != nil {
		t.Fatal(err)
	}
	if id := mailboxv1.ID(stored); string(resp.Id) != string(id[:]) || resp.Duplicate {
		t.Fatalf("PostResponse %x duplicate=%v, want ID %x", resp.Id, resp.Duplicate, id)
	}

	stream, err := r.Subscribe(ctx, s.node.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, stored) {
		t.Fatal("the stored envelope was not delivered first")
	}
	live := s.env(s.bob, r.Hash)
	if _, err := s.post(t, live); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, live) {
		t.Fatal("the live envelope was not delivered")
	}
	// Posting the same envelope again is acknowledged as a duplicate and
	// not delivered twice.
	resp, err = s.post(t, live)
	if err != nil || !resp.Duplicate {
		t.Fatalf("repost: %v, duplicate=%v", err, resp.GetDuplicate())
	}
	next := s.env(s.alice, r.Hash)
	if _, err := s.post(t, next); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, next) {
		t.Fatal("a duplicate was delivered")
	}
}

func TestSubscribeOnlyOwnEnvelopes(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	mine, other := mailboxtest.NewRecipient(t), mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if _, err := s.post(t, s.env(s.alice, other.Hash)); err != nil {
		t.Fatal(err)
	}
	first := s.env(s.alice, mine.Hash)
	if _, err := s.post(t, first); err != nil {
		t.Fatal(err)
	}
	stream, err := mine.Subscribe(ctx, s.node.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, first) {
		t.Fatal("first delivery is not the subscriber's envelope")
	}
	if _, err := s.post(t, s.env(s.bob, other.Hash)); err != nil {
		t.Fatal(err)
	}
	second := s.env(s.bob, mine.Hash)
	if _, err := s.post(t, second); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, second) {
		t.Fatal("an envelope for another recipient was delivered")
	}
}

func TestSubscribeMeetingFilter(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	inB := s.env(s.alice, r.Hash)
	inB.MeetingId = meetingB
	s.alice.Sign(inB)
	if _, err := s.post(t, inB); err != nil {
		t.Fatal(err)
	}
	stream, err := r.Subscribe(ctx, s.node.Client, meetingA)
	if err != nil {
		t.Fatal(err)
	}
	inA := s.env(s.alice, r.Hash)
	if _, err := s.post(t, inA); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, inA) {
		t.Fatal("the filter let another meeting's envelope through")
	}
}

func TestSubscribeChallenge(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{Challenge: mailbox.ChallengeConfig{MaxOutstanding: 3}})
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// recvErr opens the stream and returns the error of its first Recv,
	// which carries the handler's status.
	recvErr := func(req *mailboxv1.SubscribeRequest) error {
		stream, err := s.node.Client.Subscribe(ctx, req)
		if err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}

	t.Run("wrong answer", func(t *testing.T) {
		req, err := r.Answer(ctx, s.node.Client, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Answer[0] ^= 1
		wantCode(t, recvErr(req), codes.PermissionDenied, "answer does not match")
		// The challenge is spent even though the answer was wrong.
		req.Answer[0] ^= 1
		wantCode(t, recvErr(req), codes.PermissionDenied, "already used")
	})
	t.Run("reuse refused", func(t *testing.T) {
		req, err := r.Answer(ctx, s.node.Client, nil)
		if err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithCancel(ctx)
		stream, err := s.node.Client.Subscribe(sctx, req)
		if err != nil {
			t.Fatal(err)
		}
		e := s.env(s.alice, r.Hash)
		if _, err := s.post(t, e); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, stream); !sameEnvelope(got, e) {
			t.Fatal("first use of the challenge did not subscribe")
		}
		scancel()
		wantCode(t, recvErr(req), codes.PermissionDenied, "already used")
	})
	t.Run("someone else's answer", func(t *testing.T) {
		// A challenge for r's key, answered by a client holding another key.
		resp, err := s.node.Client.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mailboxv1.OpenChallenge(mailboxtest.NewRecipient(t).Key, resp); err == nil {
			t.Fatal("another key opened the challenge")
		}
		guess := make([]byte, mailboxv1.ChallengeAnswerSize)
		wantCode(t, recvErr(&mailboxv1.SubscribeRequest{ChallengeId: resp.ChallengeId, Answer: guess}), codes.PermissionDenied, "challenge")
	})
	t.Run("expired", func(t *testing.T) {
		req, err := r.Answer(ctx, s.node.Client, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(mailbox.DefaultChallengeTTL)
		wantCode(t, recvErr(req), codes.PermissionDenied, "expired")
	})
	t.Run("bad arguments", func(t *testing.T) {
		req, err := r.Answer(ctx, s.node.Client, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, recvErr(&mailboxv1.SubscribeRequest{ChallengeId: req.ChallengeId[:4], Answer: req.Answer}), codes.InvalidArgument, "challenge_id")
		wantCode(t, recvErr(&mailboxv1.SubscribeRequest{ChallengeId: req.ChallengeId, Answer: req.Answer[:31]}), codes.InvalidArgument, "answer")
		wantCode(t, recvErr(&mailboxv1.SubscribeRequest{ChallengeId: req.ChallengeId, Answer: req.Answer, MeetingId: []byte{1}}), codes.InvalidArgument, "meeting_id")
		_, err = s.node.Client.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey[:100]})
		wantCode(t, err, codes.InvalidArgument, "recipient_pk")
	})
	t.Run("too many outstanding", func(t *testing.T) {
		s.clock.Advance(mailbox.DefaultChallengeTTL) // forget the earlier cases' challenges
		for range 3 {
			if _, err := s.node.Client.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.node.Client.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey})
		wantCode(t, err, codes.ResourceExhausted, "outstanding")
		// Expired challenges make room again.
		s.clock.Advance(mailbox.DefaultChallengeTTL)
		if _, err := s.node.Client.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey}); err != nil {
			t.Fatalf("after the outstanding challenges expired: %v", err)
		}
	})
}

func TestPostErrors(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{Store: mailbox.StoreConfig{MaxSenderEnvelopes: 1}})
	carol := s.keys.Add("carol", "tablet")
	s.keys.Revoke("carol", "tablet")
	if _, err := s.post(t, s.env(s.bob, recipientOf(9))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		env    func() *mailboxv1.Envelope
		code   codes.Code
		substr string
	}{
		{"missing envelope", func() *mailboxv1.Envelope { return nil }, codes.InvalidArgument, "envelope: missing"},
		{"bad ttl", func() *mailboxv1.Envelope {
			e := s.env(s.alice, recipientOf(1))
			e.TtlSeconds = 900
			return s.alice.Sign(e)
		}, codes.InvalidArgument, "ttl_seconds: want 1 to 600, got 900"},
		{"bad size", func() *mailboxv1.Envelope {
			e := s.env(s.alice, recipientOf(1))
			e.Body = make([]byte, mailboxv1.MaxBodySize+1)
			return s.alice.Sign(e)
		}, codes.InvalidArgument, "body: want 1 to 65535 bytes"},
		{"expired", func() *mailboxv1.Envelope {
			e := s.env(s.alice, recipientOf(1))
			e.CreatedAtMs -= 61_000
			return s.alice.Sign(e)
		}, codes.InvalidArgument, "expired"},
		{"bad signature", func() *mailboxv1.Envelope {
			e := s.env(s.alice, recipientOf(1))
			e.Sig[0] ^= 1
			return e
		}, codes.PermissionDenied, "sig does not verify"},
		{"unknown device", func() *mailboxv1.Envelope {
			return s.env(mailboxtest.NewKeys().Add("mallory", "laptop"), recipientOf(1))
		}, codes.PermissionDenied, "mallory/laptop"},
		{"revoked device", func() *mailboxv1.Envelope { return s.env(carol, recipientOf(1)) }, codes.PermissionDenied, "revoked"},
		{"sender quota", func() *mailboxv1.Envelope { return s.env(s.bob, recipientOf(1)) }, codes.ResourceExhausted, "bob/phone holds 1 envelopes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.post(t, tc.env())
			wantCode(t, err, tc.code, tc.substr)
		})
	}
}

func TestRateLimitedSenderDoesNotStopOthers(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{Rate: mailbox.RateConfig{Rate: 10, Burst: 20}})
	ctx := context.Background()
	accepted, limited := 0, 0
	for range 100 {
		_, err := s.post(t, s.env(s.alice, recipientOf(1)))
		switch {
		case err == nil:
			accepted++
		default:
			wantCode(t, err, codes.ResourceExhausted, "alice/laptop sends more than 10 envelopes per second")
			limited++
		}
	}
	// The clock is stopped, so exactly the burst goes through.
	if accepted != 20 || limited != 80 {
		t.Fatalf("flood: %d accepted, %d limited; want 20 and 80", accepted, limited)
	}
	if _, err := s.node.Client.Post(ctx, &mailboxv1.PostRequest{Envelope: s.env(s.bob, recipientOf(1))}); err != nil {
		t.Fatalf("bob while alice floods: %v", err)
	}
	s.clock.Advance(time.Second)
	if _, err := s.post(t, s.env(s.alice, recipientOf(1))); err != nil {
		t.Fatalf("alice after her bucket refilled: %v", err)
	}
}

func TestServerCloseEndsSubscriptions(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := r.Subscribe(ctx, s.node.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := s.env(s.alice, r.Hash)
	if _, err := s.post(t, e); err != nil {
		t.Fatal(err)
	}
	recv(t, stream)
	s.node.Server.Close()
	_, err = stream.Recv()
	wantCode(t, err, codes.Unavailable, "closed")
	_, err = s.post(t, s.env(s.alice, r.Hash))
	wantCode(t, err, codes.Unavailable, "closed")
}

func TestSubscriberGoneEndsSubscription(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{Store: mailbox.StoreConfig{MaxSubscribers: 1}})
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := r.Subscribe(ctx, s.node.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.post(t, s.env(s.alice, r.Hash)); err != nil {
		t.Fatal(err)
	}
	recv(t, stream)
	cancel()
	if _, err := stream.Recv(); !isCanceled(err) {
		t.Fatalf("Recv after cancel: %v", err)
	}
	// The server notices and frees the subscriber slot.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx2, cancel2 := context.WithCancel(context.Background())
		stream, err := r.Subscribe(ctx2, s.node.Client, nil)
		if err == nil {
			if _, err = stream.Recv(); err == nil {
				cancel2()
				break
			}
		}
		cancel2()
		if time.Now().After(deadline) {
			t.Fatalf("subscriber slot not freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
