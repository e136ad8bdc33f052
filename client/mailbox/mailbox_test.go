package mailbox_test

import (
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
)

// The client is the transport a meeting session is given; the check lives
// in a test so that the transport does not import its consumer.
var _ meeting.Mailbox = (*mailbox.Client)(nil)
