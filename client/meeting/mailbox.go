package meeting

import (
	"context"
	"crypto/hpke"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/mailbox"
)

// Mailbox kinds of what a session sends: api/mailbox/v1's, which nodes
// check envelopes against, under the names the session uses.
const (
	KindMeetingKey = mailboxv1.KindMeetingKey
	KindSignal     = mailboxv1.KindSignal
)

// Delivery is one envelope the mailbox delivered to this device; the type
// lives with the transport, client/mailbox.
type Delivery = mailbox.Delivery

// Mailbox is what a session needs of the nodes' mailbox: post an opaque
// body to the holder of an ephemeral key (by its hash), and receive what
// was posted to this device's ephemeral key. The implementation signs
// posts with the device key and proves possession of the ephemeral key to
// subscribe; it never sees a meeting key.
type Mailbox interface {
	Post(ctx context.Context, to [32]byte, meetingID []byte, kind uint32, body []byte) error
	Subscribe(ctx context.Context, priv hpke.PrivateKey, meetingID []byte) (<-chan Delivery, error)
}
