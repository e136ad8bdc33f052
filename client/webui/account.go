package webui

import (
	"context"
	"time"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

// PayWith returns a chain client that signs and pays with the device d's
// own account (cmd/parley: the account key derived from the device key,
// its fees paid by an organisation's fee grant, asked for when the client
// may grant: `parley ui --org`). progress, if not nil, is told in words
// what it does, for the page. The client is closed when d signs out.
type PayWith func(ctx context.Context, d meeting.Device, progress func(string)) (*verify.Client, error)

// payTimeout bounds getting a paying client (a grant is a transaction).
const payTimeout = 60 * time.Second

// payFor returns the paying client for d, or nil when Config.Chain pays
// (parley ui --from).
func (c *controller) payFor(d meeting.Device, progress func(string)) (*verify.Client, error) {
	if c.cfg.PayWith == nil {
		return nil, nil
	}
	if progress == nil {
		progress = func(string) {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), payTimeout)
	defer cancel()
	return c.cfg.PayWith(ctx, d, progress)
}

// txChain is the chain client transactions of the signed-in device go
// through: its own account's, or Config.Chain's account.
func (c *controller) txChain() *verify.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pay != nil {
		return c.pay
	}
	return c.cfg.Chain
}
