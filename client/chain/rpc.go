package chain

import (
	"context"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
)

// RPC runs call against the CometBFT RPC client of the node in use, with
// the per-attempt timeout, and moves to the next node when one does not
// answer or when call returns an error wrapping ErrBadAnswer (its answer
// did not verify). It is the way in for code that checks what nodes say
// (client/verify): failover stays in one place.
func (c *Client) RPC(ctx context.Context, call func(ctx context.Context, node string, rpc rpcclient.Client) error) error {
	return c.do(ctx, func(ctx context.Context, n *node) error {
		return call(ctx, n.addr, n.rpc)
	})
}

// Nodes returns the configured RPC addresses in the order they are tried.
func (c *Client) Nodes() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

// Distrust reports that node gave an answer that failed a check made
// after the call returned (a tentative read confirmed later): if it is
// the node in use, the client moves to the next, as it would have had
// the check been made inside RPC.
func (c *Client) Distrust(node string, err error) {
	for _, n := range c.nodes {
		if n.addr == node {
			c.failover(n, err)
			return
		}
	}
}
