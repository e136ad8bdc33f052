package mailbox_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

// fakeIssuer hands out a fixed credential and remembers for whom.
type fakeIssuer struct {
	mu       sync.Mutex
	subjects []string
	fail     error
}

func (f *fakeIssuer) IssueTURN(subject string) (mailbox.TURNCredential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return mailbox.TURNCredential{}, f.fail
	}
	f.subjects = append(f.subjects, subject)
	return mailbox.TURNCredential{
		URLs: []string{"turn:192.0.2.1:3478?transport=udp"}, Username: "1700000000:opaque", Password: "pw",
		Expires: t0.Add(10 * time.Minute),
	}, nil
}

func (f *fakeIssuer) issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.subjects...)
}

// fakeRosters lists the members of meetingA's current epoch.
type fakeRosters struct {
	members map[ids.DeviceRef]bool
	err     error
}

func (r fakeRosters) InCurrentRoster(_ context.Context, meetingID []byte, user, device string) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	return bytes.Equal(meetingID, meetingA) && r.members[ids.DeviceRef{User: user, Device: device}], nil
}

func (s *serverFixture) turn(t *testing.T, r *mailboxv1.TurnCredentialsRequest) (*mailboxv1.TurnCredentialsResponse, error) {
	t.Helper()
	return s.node.Client.TurnCredentials(context.Background(), r)
}

// wantReason checks the code, the message and the named reason of a
// mailbox error.
func wantReason(t testing.TB, err error, code codes.Code, reason, substr string) {
	t.Helper()
	wantCode(t, err, code, substr)
	if got := mailboxv1.Reason(err); got != reason {
		t.Errorf("reason %q, want %q (error %v)", got, reason, err)
	}
}

func TestTURNCredentialsRelayDisabled(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	_, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil))
	wantReason(t, err, codes.Unimplemented, mailboxv1.ReasonRelayDisabled, "does not relay")
}

func TestTURNCredentials(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	issuer := &fakeIssuer{}
	if err := s.node.EnableRelay(issuer, mailbox.RelayConfig{MaxNonces: 4}); err != nil {
		t.Fatal(err)
	}
	carol := s.keys.Add("carol", "tablet")
	s.keys.Revoke("carol", "tablet")
	mallory := mailboxtest.NewKeys().Add("mallory", "laptop")
	otherChain := s.keys.Add("dave", "desk")
	otherChain.ChainID = "another-chain"

	resp, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Username != "1700000000:opaque" || resp.Password != "pw" || len(resp.Urls) != 1 || resp.ExpiresAtMs != t0.Add(10*time.Minute).UnixMilli() {
		t.Errorf("response %+v", resp)
	}
	if got := issuer.issued(); len(got) != 1 || got[0] != "alice/laptop" {
		t.Errorf("issued for %q, want alice/laptop", got)
	}

	replayed := s.alice.TURNRequest(s.clock.Now(), nil)
	if _, err := s.turn(t, replayed); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		req    func() *mailboxv1.TurnCredentialsRequest
		code   codes.Code
		reason string
		substr string
	}{
		{"replayed request", func() *mailboxv1.TurnCredentialsRequest { return replayed }, codes.PermissionDenied, mailboxv1.ReasonReplayedRequest, "used at this node already"},
		{"not a registered device", func() *mailboxv1.TurnCredentialsRequest { return mallory.TURNRequest(s.clock.Now(), nil) },
			codes.PermissionDenied, mailboxv1.ReasonUnknownSender, "mallory/laptop"},
		{"revoked device", func() *mailboxv1.TurnCredentialsRequest { return carol.TURNRequest(s.clock.Now(), nil) },
			codes.PermissionDenied, mailboxv1.ReasonUnknownSender, "revoked"},
		{"signed for another chain", func() *mailboxv1.TurnCredentialsRequest { return otherChain.TURNRequest(s.clock.Now(), nil) },
			codes.PermissionDenied, mailboxv1.ReasonBadSignature, "sig does not verify"},
		{"signed by another device", func() *mailboxv1.TurnCredentialsRequest {
			r := s.bob.TURNRequest(s.clock.Now(), nil)
			r.User, r.Device = "alice", "laptop"
			return s.bob.SignTURN(r)
		}, codes.PermissionDenied, mailboxv1.ReasonBadSignature, "alice/laptop"},
		{"nonce changed after signing", func() *mailboxv1.TurnCredentialsRequest {
			r := s.bob.TURNRequest(s.clock.Now(), nil)
			r.Nonce[0] ^= 1
			return r
		}, codes.PermissionDenied, mailboxv1.ReasonBadSignature, "sig does not verify"},
		{"too old", func() *mailboxv1.TurnCredentialsRequest {
			return s.bob.TURNRequest(s.clock.Now().Add(-mailbox.DefaultRelayWindow-time.Millisecond), nil)
		}, codes.InvalidArgument, mailboxv1.ReasonStaleRequest, "check the device's clock"},
		{"from the future", func() *mailboxv1.TurnCredentialsRequest {
			return s.bob.TURNRequest(s.clock.Now().Add(mailbox.DefaultRelayWindow+time.Millisecond), nil)
		}, codes.InvalidArgument, mailboxv1.ReasonStaleRequest, "created_at_ms"},
		{"short nonce", func() *mailboxv1.TurnCredentialsRequest {
			r := s.bob.TURNRequest(s.clock.Now(), nil)
			r.Nonce = r.Nonce[:15]
			return s.bob.SignTURN(r)
		}, codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "nonce: want 16 bytes, got 15"},
		{"bad meeting_id", func() *mailboxv1.TurnCredentialsRequest { return s.bob.TURNRequest(s.clock.Now(), []byte{1}) },
			codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "meeting_id"},
		{"bad user", func() *mailboxv1.TurnCredentialsRequest {
			r := s.bob.TURNRequest(s.clock.Now(), nil)
			r.User = "B"
			return r
		}, codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "user"},
		{"no signature", func() *mailboxv1.TurnCredentialsRequest {
			r := s.bob.TURNRequest(s.clock.Now(), nil)
			r.Sig = nil
			return r
		}, codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "sig"},
		{"empty request", func() *mailboxv1.TurnCredentialsRequest { return &mailboxv1.TurnCredentialsRequest{} },
			codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.turn(t, tc.req())
			wantReason(t, err, tc.code, tc.reason, tc.substr)
		})
	}
	if n := len(issuer.issued()); n != 2 {
		t.Errorf("%d credentials issued, want only the 2 honest ones", n)
	}

	t.Run("replay window full, then expired", func(t *testing.T) {
		// Two nonces are held (the accepted requests); MaxNonces is 4.
		for range 2 {
			if _, err := s.turn(t, s.bob.TURNRequest(s.clock.Now(), nil)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.turn(t, s.bob.TURNRequest(s.clock.Now(), nil))
		wantReason(t, err, codes.ResourceExhausted, mailboxv1.ReasonTooManyRequests, "try again")
		s.clock.Advance(mailbox.DefaultRelayWindow + time.Millisecond)
		if _, err := s.turn(t, s.bob.TURNRequest(s.clock.Now(), nil)); err != nil {
			t.Fatalf("after the window passed: %v", err)
		}
		// The replayed request is now refused as stale instead.
		_, err = s.turn(t, replayed)
		wantReason(t, err, codes.InvalidArgument, mailboxv1.ReasonStaleRequest, "created_at_ms")
	})
	t.Run("issuer fails", func(t *testing.T) {
		issuer.mu.Lock()
		issuer.fail = errors.New("no relay port left")
		issuer.mu.Unlock()
		s.clock.Advance(2 * mailbox.DefaultRelayWindow)
		_, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil))
		wantReason(t, err, codes.Unimplemented, mailboxv1.ReasonRelayDisabled, "no relay port left")
	})
}

func TestTURNCredentialsRateLimited(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	if err := s.node.EnableRelay(&fakeIssuer{}, mailbox.RelayConfig{Rate: 1, Burst: 3}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil))
	wantReason(t, err, codes.ResourceExhausted, mailboxv1.ReasonRateLimited, "alice/laptop asks for TURN credentials more than 1 times per second")
	if _, err := s.turn(t, s.bob.TURNRequest(s.clock.Now(), nil)); err != nil {
		t.Fatalf("bob while alice is limited: %v", err)
	}
}

func TestTURNCredentialsRequireMember(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	if err := s.node.EnableRelay(&fakeIssuer{}, mailbox.RelayConfig{RequireMember: true}); err == nil {
		t.Fatal("RequireMember without Rosters accepted")
	}
	rosters := &fakeRosters{members: map[ids.DeviceRef]bool{{User: "alice", Device: "laptop"}: true}}
	if err := s.node.EnableRelay(&fakeIssuer{}, mailbox.RelayConfig{RequireMember: true, Rosters: rosters}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), meetingA)); err != nil {
		t.Fatalf("member of meeting A: %v", err)
	}
	_, err := s.turn(t, s.alice.TURNRequest(s.clock.Now(), nil))
	wantReason(t, err, codes.PermissionDenied, mailboxv1.ReasonNotMember, "name the meeting")
	_, err = s.turn(t, s.alice.TURNRequest(s.clock.Now(), meetingB))
	wantReason(t, err, codes.PermissionDenied, mailboxv1.ReasonNotMember, "not in the current epoch")
	_, err = s.turn(t, s.bob.TURNRequest(s.clock.Now(), meetingA))
	wantReason(t, err, codes.PermissionDenied, mailboxv1.ReasonNotMember, "bob/phone")
	rosters.err = errors.New("state not ready")
	_, err = s.turn(t, s.alice.TURNRequest(s.clock.Now(), meetingA))
	wantReason(t, err, codes.Unavailable, mailboxv1.ReasonKeysUnavailable, "state not ready")
}

// rawCodec sends and receives bytes as they are, so a test can put
// anything on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// TestMalformedRequestsAreNamed sends bytes that are not the RPC's message
// to every method: each answer is INVALID_ARGUMENT with the reason
// MALFORMED_REQUEST, not gRPC's INTERNAL, so a client does not take the
// node for broken and move on.
func TestMalformedRequestsAreNamed(t *testing.T) {
	s := newServerFixture(t, mailbox.Config{})
	if err := s.node.EnableRelay(&fakeIssuer{}, mailbox.RelayConfig{}); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.node.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	garbage := map[string][]byte{
		"truncated varint":       {0x0a, 0xff},
		"length past the end":    {0x0a, 0x20, 1, 2, 3},
		"wrong wire type":        {0x0b},
		"field number 0":         {0x00, 0x01},
		"envelope of wrong type": {0x0a, 0x03, 0x08, 0xff, 0xff},
	}
	for _, method := range []string{"Post", "Challenge", "TurnCredentials"} {
		for name, b := range garbage {
			t.Run(method+"/"+name, func(t *testing.T) {
				var out []byte
				err := conn.Invoke(ctx, "/parley.mailbox.v1.Mailbox/"+method, &b, &out, grpc.ForceCodec(rawCodec{}))
				if err == nil {
					// Some bytes decode into a valid message of some RPC.
					t.Skipf("%x decodes as a %s request", b, method)
				}
				if mailboxv1.Reason(err) == mailboxv1.ReasonMalformedRequest {
					wantCode(t, err, codes.InvalidArgument, "malformed request")
					return
				}
				// Bytes that decode: refused for what they say, never INTERNAL.
				if status.Code(err) == codes.Internal || mailboxv1.Reason(err) == "" {
					t.Fatalf("%s with %x: %v, want a named error", method, b, err)
				}
			})
		}
	}
	t.Run("Subscribe", func(t *testing.T) {
		b := []byte{0x0a, 0xff}
		stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/parley.mailbox.v1.Mailbox/Subscribe", grpc.ForceCodec(rawCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.SendMsg(&b); err != nil {
			t.Fatal(err)
		}
		_ = stream.CloseSend()
		var out []byte
		err = stream.RecvMsg(&out)
		wantReason(t, err, codes.InvalidArgument, mailboxv1.ReasonMalformedRequest, "malformed request")
	})
}
