package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
)

// Status is what the node in use says about the chain.
type Status struct {
	Node       string
	Height     int64     // latest block
	BlockTime  time.Time // its time
	CatchingUp bool      // the node is still syncing
	// Halted is true when the latest block is older than Config.HaltAfter
	// (by this machine's clock).
	Halted bool
}

// Status asks the first node that answers about the chain.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	err := c.do(ctx, func(ctx context.Context, n *node) error {
		st, err := n.rpc.Status(ctx)
		if err != nil {
			return err
		}
		out = Status{
			Node:       n.addr,
			Height:     st.SyncInfo.LatestBlockHeight,
			BlockTime:  st.SyncInfo.LatestBlockTime,
			CatchingUp: st.SyncInfo.CatchingUp,
			Halted:     time.Since(st.SyncInfo.LatestBlockTime) > c.cfg.HaltAfter,
		}
		return nil
	})
	return out, err
}

// Height returns the latest block height.
func (c *Client) Height(ctx context.Context) (int64, error) {
	st, err := c.Status(ctx)
	return st.Height, err
}

// TxState is where a transaction stands.
type TxState int

const (
	// TxUnknown: no node that answered has it in a block or (as far as
	// could be seen) in its mempool, and this client cannot send it again.
	TxUnknown TxState = iota
	// TxPending: in a node's mempool (sent again if this client signed it
	// and no node had it), not yet in a block.
	TxPending
	// TxCommitted: in a block; Response.Code says whether it succeeded.
	TxCommitted
	// TxRejected: it will never be in a block; Err says why.
	TxRejected
)

// String names the state for people.
func (s TxState) String() string {
	switch s {
	case TxPending:
		return "pending"
	case TxCommitted:
		return "committed"
	case TxRejected:
		return "rejected"
	}
	return "unknown"
}

// TxStatus is where a transaction stands.
type TxStatus struct {
	Hash     string
	State    TxState
	Response *sdk.TxResponse // when committed
	// Err is the chain's reason when the transaction failed in its block
	// or was rejected (wrapping ErrTxFailed), or why it is still pending.
	Err error
}

// TxStatus asks the nodes where the transaction hash stands, typically
// one a *PendingTxError named. If no block has it and this client signed
// it, it is sent again (the same bytes: it can be committed only once).
func (c *Client) TxStatus(ctx context.Context, hash string) (TxStatus, error) {
	t, err := c.tracked(hash)
	if err != nil {
		return TxStatus{}, err
	}
	out := TxStatus{Hash: t.hash}
	var res *sdk.TxResponse
	err = c.do(ctx, func(ctx context.Context, n *node) error {
		r, err := authtx.QueryTx(n.ctx, t.hash)
		switch {
		case err == nil:
			res = r
			return nil
		case !isTxNotFound(err):
			return err
		case t.signed != nil:
			r, err := n.ctx.BroadcastTxSync(t.signed.bz)
			if err != nil {
				return err
			}
			if accepted(r) {
				t.accepted[n.addr] = true
			} else {
				t.refused = chainMessage(errors.New(r.RawLog))
			}
			return nil
		default:
			mem, err := inMempool(ctx, n, t.hash)
			if mem {
				out.State = TxPending
			}
			return err
		}
	})
	if err != nil {
		return out, err
	}
	if t.refused != "" {
		// Refused, but it may still be committed from another node's
		// mempool: follow it until its sequence is used.
		res, err = c.track(ctx, t)
		var pending *PendingTxError
		if errors.As(err, &pending) {
			out.State, out.Err = TxPending, pending.Err
			return out, nil
		}
		if res == nil {
			out.State, out.Err = TxRejected, err
			return out, nil
		}
	}
	switch {
	case res != nil:
		c.forget(t.hash)
		out.State, out.Response = TxCommitted, res
		if res.Code != 0 {
			out.Err = fmt.Errorf("%w: %s", ErrTxFailed, chainMessage(errors.New(res.RawLog)))
		}
	case t.signed != nil:
		out.State = TxPending
	}
	return out, nil
}

// inMempool says whether n lists the transaction among the first
// unconfirmed ones it holds.
func inMempool(ctx context.Context, n *node, hash string) (bool, error) {
	limit := 100
	res, err := n.rpc.UnconfirmedTxs(ctx, &limit)
	if err != nil {
		return false, err
	}
	for _, tx := range res.Txs {
		if fmt.Sprintf("%X", cmttypes.Tx(tx).Hash()) == hash {
			return true, nil
		}
	}
	return false, nil
}
