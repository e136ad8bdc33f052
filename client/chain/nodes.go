package chain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/grpc"

	"github.com/cosmos/cosmos-sdk/client"
)

// node is one CometBFT RPC endpoint.
type node struct {
	addr string
	rpc  *rpchttp.HTTP
	ctx  client.Context
}

func newNode(base client.Context, addr string) (*node, error) {
	rpc, err := client.NewClientFromNode(addr)
	if err != nil {
		return nil, fmt.Errorf("chain: node %s: %w", addr, err)
	}
	return &node{addr: addr, rpc: rpc, ctx: base.WithNodeURI(addr).WithClient(rpc)}, nil
}

// Node returns the address of the node in use.
func (c *Client) Node() string { return c.current().addr }

func (c *Client) current() *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[c.cur]
}

// failover moves to the node after n, unless another call already has.
func (c *Client) failover(n *node, err error) {
	c.mu.Lock()
	i := c.cur
	c.mu.Unlock()
	if len(c.nodes) > 1 {
		c.moveTo(n, c.nodes[(i+1)%len(c.nodes)], err)
	}
}

// moveTo moves from node from to node to, unless another call already
// moved.
func (c *Client) moveTo(from, to *node, err error) {
	c.mu.Lock()
	if c.nodes[c.cur] != from {
		c.mu.Unlock()
		return
	}
	for i, n := range c.nodes {
		if n == to {
			c.cur = i
		}
	}
	c.mu.Unlock()
	if c.cfg.OnFailover != nil {
		c.cfg.OnFailover(from.addr, to.addr, err)
	}
}

// do runs call against the node in use with a per-attempt timeout; when
// the node fails on transport, or gives an answer that fails verification
// (an error wrapping ErrBadAnswer), it moves to the next and calls again
// there, trying each node once. The chain's own errors come back at once: another
// node would give the same answer. When no node answers, the error wraps
// ErrUnreachable.
func (c *Client) do(ctx context.Context, call func(ctx context.Context, n *node) error) error {
	var errs []error
	for range c.nodes {
		n := c.current()
		err := c.attempt(ctx, n, call)
		if err != nil && staleConn(err) && ctx.Err() == nil {
			// CometBFT closes idle keep-alive connections after 10 s; a
			// request that meets one fails at once. One more try opens a
			// fresh connection (every call here may be repeated: queries,
			// and broadcasts of the same signed bytes).
			err = c.attempt(ctx, n, call)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("chain: %s: %w", n.addr, ctx.Err())
		}
		if !isTransport(err) && !errors.Is(err, ErrBadAnswer) && !errors.Is(err, ErrCannotServe) {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.addr, err))
		c.failover(n, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, errors.Join(errs...))
}

// attempt runs one call against n, bounded by the attempt timeout. The
// SDK's query and broadcast helpers read their context from the client
// context's CmdContext, not from an argument, so both carry it.
func (c *Client) attempt(ctx context.Context, n *node, call func(ctx context.Context, n *node) error) error {
	actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	on := *n
	on.ctx = n.ctx.WithCmdContext(actx)
	return call(actx, &on)
}

// queryConn is a gRPC connection over ABCI queries that fails over.
type queryConn struct{ c *Client }

func (q queryConn) Invoke(ctx context.Context, method string, req, reply any, opts ...grpc.CallOption) error {
	return q.c.do(ctx, func(ctx context.Context, n *node) error {
		return n.ctx.Invoke(ctx, method, req, reply, opts...)
	})
}

func (queryConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("chain: streaming queries are not supported over CometBFT RPC")
}

// staleConn reports whether err looks like a kept-alive connection the
// node had already closed.
func staleConn(err error) bool {
	msg := err.Error()
	return strings.HasSuffix(msg, "EOF") || strings.Contains(msg, "connection reset by peer") || strings.Contains(msg, "broken pipe")
}
