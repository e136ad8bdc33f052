package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"

	"github.com/parleynet/parley/client/chain"
)

// Config says how to reach a chain and what to trust.
type Config struct {
	Chain chain.Config
	// State is the trust anchor (and newest trusted light block).
	State State
	// Save keeps the newest trusted light block (e.g. in the state file).
	Save func(State) error
	// Unverified switches verification off: a debugging mode in which the
	// node is trusted. Whoever sets it must warn the person every run.
	Unverified bool
	// OnNotice is told in words when a node is left, banned or reported;
	// it must not block.
	OnNotice func(string)
	// Now is the clock for the trusting period; default time.Now.
	Now func() time.Time
}

// Client is chain access that checks what nodes say: transactions through
// client/chain with their outcome proven, state through Reader.
type Client struct {
	*chain.Client
	reader  *Reader
	headers *Headers
	anchor  Anchor
}

// Reader returns the proven reader.
func (c *Client) Reader() *Reader { return c.reader }

// Open connects the light client (verifying from cfg.State) and returns
// the client.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	notice := cfg.OnNotice
	if notice == nil {
		notice = func(string) {}
	}
	cc := cfg.Chain
	userFailover := cc.OnFailover
	cc.OnFailover = func(from, to string, err error) {
		if userFailover != nil {
			userFailover(from, to, err)
		}
	}
	ch, err := chain.New(cc)
	if err != nil {
		return nil, err
	}
	if cfg.Unverified {
		return &Client{Client: ch, reader: NewUnverifiedReader(ch)}, nil
	}
	if cfg.State.Anchor.ChainID == "" {
		return nil, fmt.Errorf("chain %s: %w", cc.ChainID, ErrNoAnchor)
	}
	hc := HeadersConfig{ChainID: ch.ChainID(), Nodes: ch.Nodes(), State: cfg.State, OnNotice: notice, Now: cfg.Now}
	if cfg.Save != nil {
		st := cfg.State
		hc.Save = func(lb *types.LightBlock) error {
			st.Latest = lb
			return cfg.Save(st)
		}
	}
	h, err := NewHeaders(ctx, hc)
	if err != nil {
		return nil, err
	}
	return &Client{Client: ch, reader: NewReader(ch, h), headers: h, anchor: cfg.State.Anchor}, nil
}

// Headers returns the light client (nil when verification is off).
func (c *Client) Headers() *Headers { return c.headers }

// Anchor returns the trust anchor the client verifies from (zero when
// verification is off).
func (c *Client) Anchor() Anchor { return c.anchor }

// CheckAnchor checks another anchor of this chain ("HEIGHT:HASH", as an
// invite carries it) against the light client: the header at its height
// must have its hash. A mismatch means someone shows one of the two
// people another chain (or the invite was altered): ErrAnchorMismatch.
func (c *Client) CheckAnchor(ctx context.Context, s string) error {
	if c.headers == nil {
		return nil
	}
	a, err := ParseAnchor(c.ChainID(), s)
	if err != nil {
		return err
	}
	if a.Height == c.anchor.Height && bytes.Equal(a.Hash, c.anchor.Hash) {
		return nil
	}
	lb, err := c.headers.At(ctx, a.Height)
	if err != nil {
		return fmt.Errorf("checking trust anchor %s: %w", a, err)
	}
	if !bytes.Equal(lb.Hash(), a.Hash) {
		return fmt.Errorf("%w: it says block %d has hash %X; the chain this client verifies has %X", ErrAnchorMismatch, a.Height, a.Hash, lb.Hash())
	}
	return nil
}

// Close saves the newest trusted header.
func (c *Client) Close() error {
	if c.headers == nil {
		return nil
	}
	return c.headers.Close()
}

// Broadcast sends msgs as client/chain does and, once they are in a block,
// proves the outcome (inclusion and result) against the light client. A
// node that says a transaction succeeded when it failed, or the other way
// round, is caught here.
func (c *Client) Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, _, err := c.BroadcastProven(ctx, msgs...)
	return res, err
}

// BroadcastProven is Broadcast that also returns the proven outcome (zero
// when verification is off or the transaction never reached a block).
func (c *Client) BroadcastProven(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, TxOutcome, error) {
	res, err := c.Client.Broadcast(ctx, msgs...)
	if res == nil || res.Height == 0 || c.headers == nil {
		return res, TxOutcome{}, err
	}
	out, perr := c.ProveTx(ctx, res)
	if perr != nil {
		// The node's word on the outcome (err) is worth nothing now.
		return res, out, perr
	}
	return res, out, err
}

// BroadcastIncluded sends msgs and returns once a node reports them in a
// block: that node's word, nothing proven yet. Whoever acts on it before
// ProveTx must be safe if the word was false (client/meeting: the leader's
// commit, see PROTOCOL.md section 10).
func (c *Client) BroadcastIncluded(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	return c.Client.Broadcast(ctx, msgs...)
}

// ProveTx proves the outcome a node reported for a transaction in a block
// (from BroadcastIncluded), waiting for the header after that block. A
// node that reported another code or height is a *LieError. With
// verification off it returns a zero outcome and no error.
func (c *Client) ProveTx(ctx context.Context, res *sdk.TxResponse) (TxOutcome, error) {
	if res == nil || res.Height == 0 || c.headers == nil {
		return TxOutcome{}, nil
	}
	hash, err := hex.DecodeString(res.TxHash)
	if err != nil {
		return TxOutcome{}, fmt.Errorf("transaction hash %q: %w", res.TxHash, err)
	}
	out, err := c.reader.Tx(ctx, hash)
	if err != nil {
		return out, &UnprovenTxError{Hash: res.TxHash, Err: err}
	}
	if out.Code != res.Code || out.Height != res.Height {
		node := c.SaidBy(res.TxHash)
		if node == "" {
			node = c.Node()
		}
		lie := &LieError{Node: node, What: "tx " + res.TxHash, Height: res.Height,
			Err: fmt.Errorf("said code %d at height %d; the proven result is code %d at height %d", res.Code, res.Height, out.Code, out.Height)}
		c.Distrust(node, lie)
		return out, lie
	}
	return out, nil
}

// MsgResponse decodes the i-th message response of a proven outcome into
// out (e.g. a MsgCommitEpochResponse).
func (o TxOutcome) MsgResponse(i int, out proto.Message) error {
	var data sdk.TxMsgData
	if err := proto.Unmarshal(o.Data, &data); err != nil {
		return fmt.Errorf("tx %X: result data: %w", o.Hash, err)
	}
	if i >= len(data.MsgResponses) {
		return fmt.Errorf("tx %X: %d message responses, want index %d", o.Hash, len(data.MsgResponses), i)
	}
	return proto.Unmarshal(data.MsgResponses[i].Value, out)
}
