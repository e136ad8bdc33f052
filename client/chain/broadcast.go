package chain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// seqHint is the sequence after the last transaction a node accepted
// from this client, which the chain's committed state does not show until
// that transaction is in a block.
type seqHint struct{ num, next uint64 }

// Broadcast signs msgs with the configured account, broadcasts them and
// waits until they are in a block, moving to the next node whenever one
// stops answering. The transaction is signed once: after a failover the
// same bytes are looked up by hash and, if no block has them, sent again,
// so it is committed at most once. A transaction the chain rejects comes
// back as ErrTxFailed wrapping the chain's message. One whose fate is not
// known when the wait ends (the chain halted, no node answers, the commit
// timeout or ctx ran out) comes back as a *PendingTxError with its hash.
func (c *Client) Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	if c.from == nil {
		return nil, errors.New("chain: no paying account (set --from)")
	}
	t, res, err := c.signAndSend(ctx, msgs)
	if err != nil || t == nil {
		return res, err
	}
	return c.track(ctx, t)
}

// signAndSend signs msgs and sends them to the first node that answers.
// It returns the transaction to track, or an error if it was never sent
// or the chain refused it outright.
func (c *Client) signAndSend(ctx context.Context, msgs []sdk.Msg) (*pendingTx, *sdk.TxResponse, error) {
	c.signMu.Lock()
	defer c.signMu.Unlock()
	num, chainSeq, err := c.account(ctx)
	if err != nil {
		return nil, nil, err
	}
	txf := tx.Factory{}.
		WithTxConfig(c.enc.TxConfig).
		WithKeybase(c.nodes[0].ctx.Keyring).
		WithChainID(c.cfg.ChainID).
		WithGasAdjustment(c.cfg.GasAdjustment).
		WithFromName(c.nodes[0].ctx.FromName).
		WithSimulateAndExecute(true).
		WithAccountNumber(num)
	if c.cfg.Fees != "" {
		txf = txf.WithFees(c.cfg.Fees)
	}
	if c.granter != nil {
		txf = txf.WithFeeGranter(c.granter)
	}
	seq := chainSeq
	c.mu.Lock()
	if c.seq.num == num && c.seq.next > seq {
		seq = c.seq.next
	}
	c.mu.Unlock()
	gas, err := c.simulate(ctx, txf.WithSequence(seq), msgs)
	if err != nil && seq != chainSeq && isWrongSequence(err.Error()) {
		// The transaction the hint counted on is not in this node's
		// mempool (dropped, or never gossiped here): go by the chain.
		c.forgetSeq()
		seq = chainSeq
		gas, err = c.simulate(ctx, txf.WithSequence(seq), msgs)
	}
	if err != nil {
		if errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
			return nil, nil, err
		}
		return nil, nil, c.txFailed(chainMessage(err))
	}
	txf = txf.WithSequence(seq).WithGas(gas)
	builder, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Sign(ctx, txf, txf.FromName(), builder, true); err != nil {
		return nil, nil, fmt.Errorf("chain: signing with %s: %w", txf.FromName(), err)
	}
	bz, err := c.enc.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return nil, nil, err
	}
	signed := &signedTx{bz: bz, num: num, seq: seq}
	t := &pendingTx{hash: fmt.Sprintf("%X", cmttypes.Tx(bz).Hash()), signed: signed, accepted: map[string]bool{}}
	c.remember(t.hash, signed)

	// Send it once to the first node that answers. A node's refusal is
	// final only if no earlier node may have received it.
	var (
		answer *sdk.TxResponse
		by     string
		tries  int
	)
	err = c.do(ctx, func(ctx context.Context, n *node) error {
		tries++
		res, err := n.ctx.BroadcastTxSync(bz)
		if err != nil {
			return err
		}
		answer, by = res, n.addr
		return nil
	})
	switch {
	case err != nil:
		// Perhaps a node has it, perhaps none: track it to find out.
	case accepted(answer):
		t.accepted[by] = true
		c.mu.Lock()
		c.seq = seqHint{num: num, next: seq + 1}
		c.mu.Unlock()
	case tries == 1:
		c.forget(t.hash)
		if isWrongSequence(answer.RawLog) {
			c.forgetSeq()
		}
		return nil, answer, c.txFailed(chainMessage(errors.New(answer.RawLog)))
	default:
		t.refused = chainMessage(errors.New(answer.RawLog))
	}
	return t, nil, nil
}

// account returns the paying account's number and committed sequence.
func (c *Client) account(ctx context.Context) (num, seq uint64, err error) {
	res, err := authtypes.NewQueryClient(c.QueryConn()).Account(ctx, &authtypes.QueryAccountRequest{Address: c.Account()})
	switch {
	case err == nil:
	case errors.Is(err, ErrUnreachable) || ctx.Err() != nil:
		return 0, 0, err
	case status.Code(err) == codes.NotFound:
		return 0, 0, fmt.Errorf("%w: %s: send it tokens, or have an organisation grant it fees (`parley org grant %s`)", ErrAccountUnknown, c.Account(), c.Account())
	default:
		return 0, 0, fmt.Errorf("chain: account %s: %s", c.Account(), chainMessage(err))
	}
	var acc sdk.AccountI
	if err := c.enc.Registry.UnpackAny(res.Account, &acc); err != nil {
		return 0, 0, fmt.Errorf("chain: account %s: %w", c.Account(), err)
	}
	return acc.GetAccountNumber(), acc.GetSequence(), nil
}

// simulate returns the gas msgs need, scaled by the gas adjustment.
func (c *Client) simulate(ctx context.Context, txf tx.Factory, msgs []sdk.Msg) (uint64, error) {
	bz, err := txf.BuildSimTx(msgs...)
	if err != nil {
		return 0, err
	}
	res, err := txtypes.NewServiceClient(c.QueryConn()).Simulate(ctx, &txtypes.SimulateRequest{TxBytes: bz})
	if err != nil {
		return 0, err
	}
	return uint64(txf.GasAdjustment() * float64(res.GasInfo.GasUsed)), nil
}

func (c *Client) forgetSeq() {
	c.mu.Lock()
	c.seq = seqHint{}
	c.mu.Unlock()
}

// accepted says whether a node took the transaction into its mempool, now
// or earlier ("already in the mempool cache" means it has seen it).
func accepted(res *sdk.TxResponse) bool {
	if res.Code == 0 {
		return true
	}
	return res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrTxInMempoolCache.ABCICode()
}

func isWrongSequence(log string) bool {
	return strings.Contains(log, "account sequence mismatch") || strings.Contains(log, sdkerrors.ErrWrongSequence.Error())
}
