package mailbox_test

import (
	"context"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
)

// FuzzGossipMessage decodes untrusted bytes as the p2p channel does and
// feeds the envelope to the intake, as the reactor does. Nothing may panic,
// and whatever the intake stores must be valid and correctly signed.
func FuzzGossipMessage(f *testing.F) {
	fx := newFixture(f, mailbox.StoreConfig{}, mailbox.RateConfig{Rate: 1e9, Burst: 1 << 30})
	ctx := context.Background()
	for i, d := range []byte{1, 2} {
		e := fx.env(fx.alice, recipientOf(d))
		if i == 1 {
			e.Kind = mailboxv1.KindMeetingKey
			fx.alice.Sign(e)
		}
		bz, err := (&mailboxv1.GossipMessage{Envelope: e}).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bz)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x03, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m mailboxv1.GossipMessage
		if err := m.Unmarshal(b); err != nil || m.Envelope == nil {
			return
		}
		if _, err := fx.intake.Accept(ctx, m.Envelope); err != nil {
			return
		}
		if err := fx.verifier.Verify(ctx, m.Envelope); err != nil {
			t.Fatalf("the intake stored an envelope that fails verification: %v", err)
		}
		if !fx.store.Has(mailboxv1.ID(m.Envelope)) {
			t.Fatal("accepted envelope not in the store")
		}
	})
}
