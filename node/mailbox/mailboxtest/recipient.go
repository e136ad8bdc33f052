package mailboxtest

import (
	"context"
	"crypto/hpke"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Recipient holds an ephemeral MLKEM768-X25519 key, as a device that joined
// a meeting does.
type Recipient struct {
	Key       hpke.PrivateKey
	PublicKey []byte
	Hash      [mailboxv1.RecipientSize]byte
}

// NewRecipient generates a recipient key.
func NewRecipient(tb testing.TB) *Recipient {
	tb.Helper()
	k, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	pk := k.PublicKey().Bytes()
	return &Recipient{Key: k, PublicKey: pk, Hash: mailboxv1.RecipientHash(pk)}
}

// Answer asks c for a challenge and opens it: the request Subscribe needs.
func (r *Recipient) Answer(ctx context.Context, c mailboxv1.MailboxClient, meetingID []byte) (*mailboxv1.SubscribeRequest, error) {
	resp, err := c.Challenge(ctx, &mailboxv1.ChallengeRequest{RecipientPk: r.PublicKey})
	if err != nil {
		return nil, err
	}
	answer, err := mailboxv1.OpenChallenge(r.Key, resp)
	if err != nil {
		return nil, err
	}
	return &mailboxv1.SubscribeRequest{ChallengeId: resp.ChallengeId, Answer: answer, MeetingId: meetingID}, nil
}

// Subscribe answers a challenge and opens a subscription on c. The stream
// ends when ctx does.
func (r *Recipient) Subscribe(ctx context.Context, c mailboxv1.MailboxClient, meetingID []byte) (mailboxv1.Mailbox_SubscribeClient, error) {
	req, err := r.Answer(ctx, c, meetingID)
	if err != nil {
		return nil, err
	}
	return c.Subscribe(ctx, req)
}
