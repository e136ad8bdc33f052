package mailbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

func TestStoreAdd(t *testing.T) {
	cases := []struct {
		name  string
		cfg   mailbox.StoreConfig
		setup func(f *fixture) // envelopes stored before
		env   func(f *fixture) *mailboxv1.Envelope
		want  error
	}{
		{name: "stored", env: func(f *fixture) *mailboxv1.Envelope { return f.env(f.alice, recipientOf(1)) }},
		{
			name: "duplicate",
			env: func(f *fixture) *mailboxv1.Envelope {
				e := f.env(f.alice, recipientOf(1))
				if _, err := f.store.Add(e); err != nil {
					t.Fatal(err)
				}
				return e
			},
			want: mailbox.ErrDuplicate,
		},
		{
			name: "expired by ttl",
			env: func(f *fixture) *mailboxv1.Envelope {
				e := f.env(f.alice, recipientOf(1))
				e.CreatedAtMs = f.clock.Now().Add(-60 * time.Second).UnixMilli()
				return f.alice.Sign(e)
			},
			want: mailbox.ErrExpired,
		},
		{
			name: "created too far in the future",
			env: func(f *fixture) *mailboxv1.Envelope {
				e := f.env(f.alice, recipientOf(1))
				e.CreatedAtMs = f.clock.Now().Add(5*time.Minute + time.Millisecond).UnixMilli()
				return f.alice.Sign(e)
			},
			want: mailbox.ErrFromFuture,
		},
		{
			name: "created within the skew",
			env: func(f *fixture) *mailboxv1.Envelope {
				e := f.env(f.alice, recipientOf(1))
				e.CreatedAtMs = f.clock.Now().Add(5 * time.Minute).UnixMilli()
				return f.alice.Sign(e)
			},
		},
		{
			name:  "full by count",
			cfg:   mailbox.StoreConfig{MaxEnvelopes: 2},
			setup: func(f *fixture) { add(t, f, f.alice, 1); add(t, f, f.bob, 2) },
			env:   func(f *fixture) *mailboxv1.Envelope { return f.env(f.bob, recipientOf(3)) },
			want:  mailbox.ErrStoreFull,
		},
		{
			name:  "full by bytes",
			cfg:   mailbox.StoreConfig{MaxBytes: 1500},
			setup: func(f *fixture) { add(t, f, f.alice, 1); add(t, f, f.bob, 2) },
			env:   func(f *fixture) *mailboxv1.Envelope { return f.env(f.bob, recipientOf(3)) },
			want:  mailbox.ErrStoreFull,
		},
		{
			name:  "sender over its count quota",
			cfg:   mailbox.StoreConfig{MaxSenderEnvelopes: 2},
			setup: func(f *fixture) { add(t, f, f.alice, 1); add(t, f, f.alice, 2) },
			env:   func(f *fixture) *mailboxv1.Envelope { return f.env(f.alice, recipientOf(3)) },
			want:  mailbox.ErrSenderQuota,
		},
		{
			name:  "other sender within its quota",
			cfg:   mailbox.StoreConfig{MaxSenderEnvelopes: 2},
			setup: func(f *fixture) { add(t, f, f.alice, 1); add(t, f, f.alice, 2) },
			env:   func(f *fixture) *mailboxv1.Envelope { return f.env(f.bob, recipientOf(3)) },
		},
		{
			name: "sender over its byte quota",
			cfg:  mailbox.StoreConfig{MaxSenderBytes: 1000},
			env: func(f *fixture) *mailboxv1.Envelope {
				e := f.env(f.alice, recipientOf(1))
				e.Body = make([]byte, 600)
				return f.alice.Sign(e)
			},
			want: mailbox.ErrSenderQuota,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg, mailbox.RateConfig{})
			if tc.setup != nil {
				tc.setup(f)
			}
			e := tc.env(f)
			n0, _ := f.store.Len()
			id, err := f.store.Add(e)
			if id != mailboxv1.ID(e) {
				t.Error("Add returned another ID than mailboxv1.ID")
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Add = %v, want %v", err, tc.want)
			}
			n1, _ := f.store.Len()
			if tc.want == nil && n1 != n0+1 || tc.want != nil && n1 != n0 {
				t.Errorf("store holds %d envelopes after, %d before", n1, n0)
			}
			if tc.want == nil && !f.store.Has(id) {
				t.Error("stored envelope not found by ID")
			}
		})
	}
}

func add(t testing.TB, f *fixture, d *mailboxtest.Device, r byte) *mailboxv1.Envelope {
	t.Helper()
	e := f.env(d, recipientOf(r))
	if _, err := f.store.Add(e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestStoreExpiresByTTL(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{}, mailbox.RateConfig{})
	e := f.env(f.alice, recipientOf(1))
	e.TtlSeconds = 10
	f.alice.Sign(e)
	id, err := f.store.Add(e)
	if err != nil {
		t.Fatal(err)
	}

	f.clock.Advance(10*time.Second - time.Millisecond)
	if n := f.store.Sweep(); n != 0 {
		t.Fatalf("swept %d envelopes before their time", n)
	}
	_, backlog, err := subscribe(t, f.store, recipientOf(1), nil)
	if err != nil || len(backlog) != 1 {
		t.Fatalf("before expiry: backlog %d, err %v", len(backlog), err)
	}

	f.clock.Advance(time.Millisecond)
	// Not served once the time is up, even before a sweep.
	if _, backlog, _ := subscribe(t, f.store, recipientOf(1), nil); len(backlog) != 0 {
		t.Error("an expired envelope was served")
	}
	if n := f.store.Sweep(); n != 1 {
		t.Fatalf("swept %d envelopes at expiry, want 1", n)
	}
	if n, b := f.store.Len(); n != 0 || b != 0 || f.store.Has(id) {
		t.Errorf("after the sweep: %d envelopes, %d bytes, has=%v", n, b, f.store.Has(id))
	}
	// The same envelope is refused from now on, not stored again.
	if _, err := f.store.Add(e); !errors.Is(err, mailbox.ErrExpired) {
		t.Errorf("re-adding the expired envelope: %v", err)
	}
}

func TestStoreFullMakesRoomFromExpired(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{MaxEnvelopes: 1}, mailbox.RateConfig{})
	add(t, f, f.alice, 1)
	if _, err := f.store.Add(f.env(f.bob, recipientOf(2))); !errors.Is(err, mailbox.ErrStoreFull) {
		t.Fatalf("Add to a full store = %v", err)
	}
	f.clock.Advance(61 * time.Second)
	if _, err := f.store.Add(f.env(f.bob, recipientOf(2))); err != nil {
		t.Fatalf("Add once the first expired = %v", err)
	}
}

func TestStoreSweeperRuns(t *testing.T) {
	mailboxtest.CheckGoroutines(t)
	s := mailbox.NewStore(mailbox.StoreConfig{})
	keys := mailboxtest.NewKeys()
	d := keys.Add("alice", "laptop")
	e := d.Envelope(recipientOf(1), meetingA, []byte("x"), time.Now().Add(-59900*time.Millisecond))
	if _, err := s.Add(e); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := s.Len(); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not delete an envelope 100 ms from expiry within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func subscribe(t testing.TB, s *mailbox.Store, r [mailboxv1.RecipientSize]byte, meeting []byte) (*mailbox.Subscription, []*mailboxv1.Envelope, error) {
	t.Helper()
	sub, backlog, err := s.Subscribe(r, meeting)
	if err == nil {
		t.Cleanup(sub.Close)
	}
	return sub, backlog, err
}

func TestStoreSubscribe(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{SubscriberBuffer: 2}, mailbox.RateConfig{})
	first := add(t, f, f.alice, 1)
	add(t, f, f.alice, 2) // another recipient
	inB := f.env(f.bob, recipientOf(1))
	inB.MeetingId = meetingB
	f.bob.Sign(inB)
	if _, err := f.store.Add(inB); err != nil {
		t.Fatal(err)
	}

	_, all, err := subscribe(t, f.store, recipientOf(1), nil)
	if err != nil || len(all) != 2 || !sameEnvelope(all[0], first) || !sameEnvelope(all[1], inB) {
		t.Fatalf("backlog for recipient 1: %d envelopes, err %v; want both of its envelopes, oldest first", len(all), err)
	}
	sub, onlyA, err := subscribe(t, f.store, recipientOf(1), meetingA)
	if err != nil || len(onlyA) != 1 || !sameEnvelope(onlyA[0], first) {
		t.Fatalf("backlog for meeting A: %d envelopes, err %v", len(onlyA), err)
	}
	if _, _, err := f.store.Subscribe(recipientOf(1), []byte{1, 2}); !errors.Is(err, mailboxv1.ErrInvalidEnvelope) {
		t.Errorf("meeting filter of 2 bytes: %v", err)
	}

	live := add(t, f, f.alice, 1)
	add(t, f, f.alice, 3)
	select {
	case got := <-sub.C():
		if !sameEnvelope(got, live) {
			t.Fatal("live delivery of another envelope")
		}
	default:
		t.Fatal("no live delivery")
	}
	// A subscriber that does not read is dropped once its buffer is full.
	for range 3 {
		add(t, f, f.alice, 1)
	}
	select {
	case <-sub.Done():
		if !errors.Is(sub.Err(), mailbox.ErrSlowSubscriber) {
			t.Errorf("slow subscriber ended with %v", sub.Err())
		}
	default:
		t.Fatal("a subscriber with a full buffer was not dropped")
	}
}

func TestStoreSubscriberLimitAndClose(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{MaxSubscribers: 1}, mailbox.RateConfig{})
	sub, _, err := f.store.Subscribe(recipientOf(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.Subscribe(recipientOf(2), nil); !errors.Is(err, mailbox.ErrTooManySubscribers) {
		t.Fatalf("second subscriber: %v", err)
	}
	f.store.Close()
	<-sub.Done()
	if !errors.Is(sub.Err(), mailbox.ErrClosed) {
		t.Errorf("subscription ended with %v, want ErrClosed", sub.Err())
	}
	sub.Close() // idempotent
	if _, err := f.store.Add(f.env(f.alice, recipientOf(1))); !errors.Is(err, mailbox.ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
}
