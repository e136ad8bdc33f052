package mailbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

func TestRateLimiter(t *testing.T) {
	clock := mailboxtest.NewClock(t0)
	l := mailbox.NewRateLimiter(mailbox.RateConfig{Rate: 10, Burst: 5, MaxSenders: 2, Clock: clock})

	for i := range 5 {
		if !l.Allow("alice") {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if l.Allow("alice") {
		t.Fatal("a sixth token within the burst")
	}
	if !l.Allow("bob") {
		t.Fatal("another sender was refused because of alice")
	}
	clock.Advance(100 * time.Millisecond) // one token at 10/s
	if !l.Allow("alice") {
		t.Fatal("no token after refilling one")
	}
	if l.Allow("alice") {
		t.Fatal("two tokens after refilling one")
	}
	clock.Advance(time.Hour) // refills to the burst, not beyond
	for range 5 {
		l.Allow("alice")
		l.Allow("bob")
	}
	if l.Allow("alice") {
		t.Fatal("the bucket grew past its burst")
	}

	// MaxSenders: alice and bob are tracked; carol is refused until a
	// bucket refills and can be forgotten.
	if l.Allow("carol") {
		t.Fatal("a third sender admitted past MaxSenders while both buckets are in use")
	}
	clock.Advance(time.Second)
	if !l.Allow("carol") {
		t.Fatal("a third sender refused after the other buckets refilled")
	}
	if n := l.Len(); n > 2 {
		t.Errorf("%d buckets kept, MaxSenders 2", n)
	}
}

// TestIntakeOrder checks the order of the intake's checks: a badly signed
// envelope in someone's name does not spend their tokens, and a duplicate
// spends none either.
func TestIntakeOrder(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{}, mailbox.RateConfig{Rate: 1, Burst: 2})
	ctx := context.Background()
	for range 10 {
		forged := f.env(f.alice, recipientOf(1))
		forged.Sig[0] ^= 1
		if _, err := f.intake.Accept(ctx, forged); !errors.Is(err, mailbox.ErrBadSignature) {
			t.Fatalf("forged envelope: %v", err)
		}
	}
	e := f.env(f.alice, recipientOf(1))
	if _, err := f.intake.Accept(ctx, e); err != nil {
		t.Fatalf("alice's first envelope after forgeries in her name: %v", err)
	}
	for range 5 {
		if _, err := f.intake.Accept(ctx, e); !errors.Is(err, mailbox.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
	}
	if _, err := f.intake.Accept(ctx, f.env(f.alice, recipientOf(1))); err != nil {
		t.Fatalf("alice's second envelope after duplicates: %v", err)
	}
	if _, err := f.intake.Accept(ctx, f.env(f.alice, recipientOf(1))); !errors.Is(err, mailbox.ErrRateLimited) {
		t.Fatalf("alice's third envelope within a burst of 2: %v", err)
	}
}
