package call

import "context"

// Transport carries sealed signals between devices: in Parley the nodes'
// mailbox, in tests an in-memory hub (calltest.Network). It sees only
// sealed bodies. Send must return once ctx is done; Receive's channel may
// be closed when no more signals will come.
type Transport interface {
	Send(ctx context.Context, to Member, body []byte) error
	Receive() <-chan Inbound
}

// Inbound is one sealed signal as the transport delivered it. FromUser and
// FromDevice are what the transport says about the sender (empty if it
// cannot say); the engine trusts only the signed sender, and refuses a
// signal whose signed sender differs from a non-empty transport sender.
type Inbound struct {
	FromUser   string
	FromDevice string
	Body       []byte
}
