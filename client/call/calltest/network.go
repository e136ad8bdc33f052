package calltest

import (
	"context"
	"sync"

	"github.com/parleynet/parley/client/call"
)

// boxSize is how many signals a mailbox holds before Send waits.
const boxSize = 1024

// Network is an in-memory mailbox: every device has a box, created on
// first use, so signals sent before a device joins wait for it.
type Network struct {
	mu        sync.Mutex
	boxes     map[string]chan call.Inbound
	intercept func(from, to call.Member, body []byte) []byte
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{boxes: make(map[string]chan call.Inbound)}
}

func (n *Network) box(user, device string) chan call.Inbound {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := user + "\x00" + device
	b := n.boxes[k]
	if b == nil {
		b = make(chan call.Inbound, boxSize)
		n.boxes[k] = b
	}
	return b
}

// Intercept sets f to see every body sent from now on; it returns the body
// to deliver (possibly altered) or nil to drop it. f runs on the sender's
// goroutine.
func (n *Network) Intercept(f func(from, to call.Member, body []byte) []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.intercept = f
}

// Deliver puts in into the box of user/device, as if a node had delivered
// it: for injecting forged or replayed signals.
func (n *Network) Deliver(ctx context.Context, user, device string, in call.Inbound) error {
	select {
	case n.box(user, device) <- in:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Endpoint returns the Transport of member m.
func (n *Network) Endpoint(m call.Member) *Endpoint {
	return &Endpoint{n: n, self: m, in: n.box(m.UserID, m.DeviceID)}
}

// Endpoint is one device's Transport on a Network.
type Endpoint struct {
	n    *Network
	self call.Member
	in   chan call.Inbound
}

// Send delivers body to to's box, waiting while it is full.
func (ep *Endpoint) Send(ctx context.Context, to call.Member, body []byte) error {
	ep.n.mu.Lock()
	f := ep.n.intercept
	ep.n.mu.Unlock()
	if f != nil {
		if body = f(ep.self, to, body); body == nil {
			return nil
		}
	}
	return ep.n.Deliver(ctx, to.UserID, to.DeviceID, call.Inbound{
		FromUser: ep.self.UserID, FromDevice: ep.self.DeviceID, Body: body,
	})
}

// Receive returns the device's box.
func (ep *Endpoint) Receive() <-chan call.Inbound { return ep.in }
