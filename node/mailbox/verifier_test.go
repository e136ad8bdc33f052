package mailbox_test

import (
	"context"
	"errors"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

type brokenKeys struct{}

func (brokenKeys) ActiveDeviceKey(context.Context, string, string) ([]byte, error) {
	return nil, errors.New("state not ready")
}

func TestVerifier(t *testing.T) {
	f := newFixture(t, mailbox.StoreConfig{}, mailbox.RateConfig{})
	carol := f.keys.Add("carol", "tablet")
	f.keys.Revoke("carol", "tablet")
	stranger := mailboxtest.NewKeys().Add("mallory", "laptop")
	otherChain := f.keys.Add("dave", "desk")
	otherChain.ChainID = "another-chain"

	cases := []struct {
		name string
		env  func() *mailboxv1.Envelope
		want error
	}{
		{"valid", func() *mailboxv1.Envelope { return f.env(f.alice, recipientOf(1)) }, nil},
		{"bad size: to", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.To = e.To[:16]
			return f.alice.Sign(e)
		}, mailboxv1.ErrInvalidEnvelope},
		{"bad size: body", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.Body = make([]byte, mailboxv1.MaxBodySize+1)
			return f.alice.Sign(e)
		}, mailboxv1.ErrInvalidEnvelope},
		{"bad size: meeting_id", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.MeetingId = nil
			return f.alice.Sign(e)
		}, mailboxv1.ErrInvalidEnvelope},
		{"bad ttl: 0", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.TtlSeconds = 0
			return f.alice.Sign(e)
		}, mailboxv1.ErrInvalidEnvelope},
		{"bad ttl: 601", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.TtlSeconds = 601
			return f.alice.Sign(e)
		}, mailboxv1.ErrInvalidEnvelope},
		{"bad sig: flipped bit", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.Sig[10] ^= 1
			return e
		}, mailbox.ErrBadSignature},
		{"bad sig: body changed after signing", func() *mailboxv1.Envelope {
			e := f.env(f.alice, recipientOf(1))
			e.Body = append(e.Body, '!')
			return e
		}, mailbox.ErrBadSignature},
		{"bad sig: signed by another device of the chain", func() *mailboxv1.Envelope {
			e := f.env(f.bob, recipientOf(1))
			e.FromUser, e.FromDevice = f.alice.User, f.alice.Device
			return f.bob.Sign(e)
		}, mailbox.ErrBadSignature},
		{"bad sig: signed for another chain", func() *mailboxv1.Envelope {
			return otherChain.Envelope(recipientOf(1), meetingA, []byte("x"), f.clock.Now())
		}, mailbox.ErrBadSignature},
		{"unknown sender", func() *mailboxv1.Envelope { return f.env(stranger, recipientOf(1)) }, mailbox.ErrUnknownSender},
		{"revoked sender", func() *mailboxv1.Envelope { return f.env(carol, recipientOf(1)) }, mailbox.ErrUnknownSender},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.verifier.Verify(context.Background(), tc.env())
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("keys unavailable", func(t *testing.T) {
		v, err := mailbox.NewVerifier(mailboxtest.ChainID, brokenKeys{})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(context.Background(), f.env(f.alice, recipientOf(1))); !errors.Is(err, mailbox.ErrKeysUnavailable) {
			t.Fatalf("Verify = %v, want ErrKeysUnavailable", err)
		}
	})
	t.Run("constructor", func(t *testing.T) {
		if _, err := mailbox.NewVerifier("", f.keys); err == nil {
			t.Error("empty chain ID accepted")
		}
		if _, err := mailbox.NewVerifier("c", nil); err == nil {
			t.Error("nil DeviceKeys accepted")
		}
	})
}
