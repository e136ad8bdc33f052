package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// pollEvery is how often a pending transaction is looked up: on average
// a transaction is known to be in its block half of this after the block
// (a leader's commit waits for that before sealing the key), and each
// look-up is one small query.
const pollEvery = 50 * time.Millisecond

// signedTx is a transaction this client signed: the bytes to send again,
// and the account number and sequence it uses up.
type signedTx struct {
	bz       []byte
	num, seq uint64
}

// pendingTx is a transaction being followed until it is in a block or
// can no longer be.
type pendingTx struct {
	hash   string
	signed *signedTx // nil when this client did not sign it

	accepted map[string]bool // nodes that took it into their mempool
	refused  string          // why a node would not take it, if one would not
	usedAt   int64           // height at which its sequence was seen used, 0 if not yet
}

// remember keeps a signed transaction until it is settled, so that WaitTx
// and TxStatus can send it again.
func (c *Client) remember(hash string, s *signedTx) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	c.pending[hash] = s
}

// saidByMax bounds SaidBy's memory: it is read right after the wait.
const saidByMax = 64

// said records that node reported the block of the transaction hash.
func (c *Client) said(hash, node string) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	if c.saidBy == nil || len(c.saidBy) >= saidByMax {
		c.saidBy = map[string]string{}
	}
	c.saidBy[hash] = node
}

// SaidBy returns the node that reported the block of a transaction this
// client waited for (Broadcast, WaitTx), or "" if it is not known: the
// node to name and leave when a proof shows the report false.
func (c *Client) SaidBy(hash string) string {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	return c.saidBy[strings.ToUpper(hash)]
}

func (c *Client) forget(hash string) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	delete(c.pending, hash)
}

// tracked returns a fresh follower for the transaction hash, with its
// bytes if this client signed it.
func (c *Client) tracked(hash string) (*pendingTx, error) {
	hash = strings.ToUpper(strings.TrimSpace(hash))
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
		return nil, fmt.Errorf("chain: %q is not a transaction hash (64 hex digits)", hash)
	}
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	return &pendingTx{hash: hash, signed: c.pending[hash], accepted: map[string]bool{}}, nil
}

// WaitTx waits until the transaction with the given hash is in a block,
// moving across nodes as Broadcast does. If this client signed it and no
// node has it, it is sent again.
func (c *Client) WaitTx(ctx context.Context, hash string) (*sdk.TxResponse, error) {
	t, err := c.tracked(hash)
	if err != nil {
		return nil, err
	}
	return c.track(ctx, t)
}

// track follows t until it is in a block (its response; ErrTxFailed if
// it failed there), can never be (ErrTxFailed), or the wait ends: the
// chain halted, the commit timeout or ctx ran out (*PendingTxError).
func (c *Client) track(ctx context.Context, t *pendingTx) (*sdk.TxResponse, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommitTimeout)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var (
		height     int64
		progress   = time.Now() // when the height last went up
		answered   = time.Now() // when a node last answered
		misses     int          // nodes in a row that did not answer
		lastErr    error
		pendingErr = func(err error) error {
			return &PendingTxError{Hash: t.hash, Err: err}
		}
	)
	for {
		n := c.current()
		var (
			res *sdk.TxResponse
			h   int64
		)
		err := c.attempt(ctx, n, func(ctx context.Context, n *node) error {
			var err error
			res, h, err = c.step(ctx, n, t)
			return err
		})
		switch {
		case err == nil:
			misses, answered = 0, time.Now()
			if res != nil {
				c.forget(t.hash)
				c.said(t.hash, n.addr)
				if res.Code != 0 {
					return res, fmt.Errorf("%w: %s", ErrTxFailed, chainMessage(errors.New(res.RawLog)))
				}
				return res, nil
			}
			if h > height {
				height, progress = h, time.Now()
			}
			if t.usedAt != 0 && height > t.usedAt {
				// Its sequence was used by another transaction a block
				// ago and it is still not in one: it never will be.
				c.forget(t.hash)
				c.forgetSeq()
				why := t.refused
				if why == "" {
					why = "its account sequence was used by another transaction"
				}
				return nil, fmt.Errorf("%w: %s (transaction %s)", ErrTxFailed, why, t.hash)
			}
		case ctx.Err() != nil:
		case isTransport(err):
			lastErr = fmt.Errorf("%s: %w", n.addr, err)
			c.failover(n, err)
			if misses++; misses < len(c.nodes) {
				continue // ask the next node now
			}
		default:
			// The node answered something this client cannot read (a
			// node that lies about the transaction's block, say): ask the
			// next; it stays pending when no node gives a readable answer.
			lastErr = fmt.Errorf("%s: %w", n.addr, err)
			c.failover(n, err)
			if misses++; misses < len(c.nodes) {
				continue
			}
			return nil, pendingErr(lastErr)
		}
		if d := time.Since(progress); d > c.cfg.HaltAfter {
			if c.moveAhead(ctx, height, d) {
				progress = time.Now()
				continue
			}
			if time.Since(answered) > c.cfg.HaltAfter {
				return nil, pendingErr(fmt.Errorf("%w for %s: no node answered (%w: %v)",
					ErrChainHalted, d.Round(time.Millisecond), ErrUnreachable, lastErr))
			}
			return nil, pendingErr(fmt.Errorf("%w for %s: the height stays at %d",
				ErrChainHalted, d.Round(time.Millisecond), height))
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return nil, pendingErr(parent.Err())
			}
			return nil, pendingErr(fmt.Errorf("%w after %s", ErrTxTimeout, c.cfg.CommitTimeout))
		case <-tick.C:
		}
	}
}

// step asks n once whether t is in a block; if not, makes sure n has it in
// its mempool (if this client has its bytes), and returns n's height.
func (c *Client) step(ctx context.Context, n *node, t *pendingTx) (*sdk.TxResponse, int64, error) {
	res, err := authtx.QueryTx(n.ctx, t.hash)
	switch {
	case err == nil:
		return res, 0, nil
	case !isTxNotFound(err):
		return nil, 0, err
	}
	if t.signed != nil && !t.accepted[n.addr] {
		r, err := n.ctx.BroadcastTxSync(t.signed.bz)
		if err != nil {
			return nil, 0, err
		}
		if accepted(r) {
			t.accepted[n.addr] = true
		} else if t.refused == "" {
			t.refused = chainMessage(errors.New(r.RawLog))
		}
	}
	st, err := n.rpc.Status(ctx)
	if err != nil {
		return nil, 0, err
	}
	h := st.SyncInfo.LatestBlockHeight
	if t.signed != nil && t.refused != "" && t.usedAt == 0 {
		// A refused transaction is dead only once its sequence is used:
		// until then a node that has it may still get it into a block.
		used, err := c.sequenceUsed(ctx, n, t)
		if err != nil {
			return nil, 0, err
		}
		if used {
			t.usedAt = h
		}
	}
	return nil, h, nil
}

// sequenceUsed says whether the committed state on n has moved the
// signer's sequence past t's.
func (c *Client) sequenceUsed(ctx context.Context, n *node, t *pendingTx) (bool, error) {
	res, err := authtypes.NewQueryClient(n.ctx).Account(ctx, &authtypes.QueryAccountRequest{Address: c.Account()})
	if err != nil {
		return false, err
	}
	var acc sdk.AccountI
	if err := c.enc.Registry.UnpackAny(res.Account, &acc); err != nil {
		return false, err
	}
	return acc.GetAccountNumber() == t.signed.num && acc.GetSequence() > t.signed.seq, nil
}

// moveAhead moves to another node whose chain is past height, when the
// node in use has shown none for d: a single stuck node is not a halt.
func (c *Client) moveAhead(ctx context.Context, height int64, d time.Duration) bool {
	from := c.current()
	for _, n := range c.nodes {
		if n == from {
			continue
		}
		var h int64
		err := c.attempt(ctx, n, func(ctx context.Context, n *node) error {
			st, err := n.rpc.Status(ctx)
			if err == nil {
				h = st.SyncInfo.LatestBlockHeight
			}
			return err
		})
		if err == nil && h > height {
			c.moveTo(from, n, fmt.Errorf("no new block past height %d for %s", height, d.Round(time.Millisecond)))
			return true
		}
	}
	return false
}
