package mailbox_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

var (
	t0       = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	meetingA = bytes.Repeat([]byte{0xa1}, mailboxv1.MeetingIDSize)
	meetingB = bytes.Repeat([]byte{0xb2}, mailboxv1.MeetingIDSize)
)

func recipientOf(b byte) [mailboxv1.RecipientSize]byte {
	var r [mailboxv1.RecipientSize]byte
	for i := range r {
		r[i] = b
	}
	return r
}

// fixture is a chain of two registered devices, a fake clock and a store.
type fixture struct {
	keys        *mailboxtest.Keys
	clock       *mailboxtest.Clock
	alice, bob  *mailboxtest.Device
	store       *mailbox.Store
	verifier    *mailbox.Verifier
	intake      *mailbox.Intake
	bodyCounter int
}

func newFixture(t testing.TB, sc mailbox.StoreConfig, rc mailbox.RateConfig) *fixture {
	t.Helper()
	f := &fixture{keys: mailboxtest.NewKeys(), clock: mailboxtest.NewClock(t0)}
	f.alice = f.keys.Add("alice", "laptop")
	f.bob = f.keys.Add("bob", "phone")
	sc.Clock, rc.Clock = f.clock, f.clock
	f.store = mailbox.NewStore(sc)
	v, err := mailbox.NewVerifier(mailboxtest.ChainID, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	f.verifier = v
	f.intake = mailbox.NewIntake(f.store, v, mailbox.NewRateLimiter(rc))
	return f
}

// env returns a fresh signed envelope from d to r in meetingA.
func (f *fixture) env(d *mailboxtest.Device, r [mailboxv1.RecipientSize]byte) *mailboxv1.Envelope {
	f.bodyCounter++
	body := []byte{byte(f.bodyCounter >> 8), byte(f.bodyCounter), 'x'}
	return d.Envelope(r, meetingA, body, f.clock.Now())
}

// recv waits for the next envelope on a subscription stream.
func recv(t testing.TB, s mailboxv1.Mailbox_SubscribeClient) *mailboxv1.Envelope {
	t.Helper()
	type result struct {
		e   *mailboxv1.Envelope
		err error
	}
	ch := make(chan result, 1)
	go func() {
		e, err := s.Recv()
		ch <- result{e, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Recv: %v", r.err)
		}
		return r.e
	case <-time.After(10 * time.Second):
		t.Fatal("no envelope within 10 s")
		return nil
	}
}

// wantCode checks that err is a gRPC status with code and a message
// containing substr.
func wantCode(t testing.TB, err error, code codes.Code, substr string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("error %v, want code %v", err, code)
	}
	if !bytesContains(st.Message(), substr) {
		t.Errorf("message %q does not contain %q", st.Message(), substr)
	}
}

func bytesContains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

func sameEnvelope(a, b *mailboxv1.Envelope) bool { return mailboxv1.ID(a) == mailboxv1.ID(b) }

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled
}
