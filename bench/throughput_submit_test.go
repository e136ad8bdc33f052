//go:build bench

package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"golang.org/x/sync/errgroup"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/internal/chainparams"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

const (
	// tpGasAdjustment scales the gas account 0's simulated tx used into the
	// limit of every tx of the round (fees are zero on the localnet).
	tpGasAdjustment = 1.5
	// tpCommitWait bounds the wait for one round's txs to be committed.
	tpCommitWait = 2 * time.Minute
)

// bankMsgs: account a sends 1uparley to account a+1.
func (e *tpEnv) bankMsgs(a int) (sdk.Msg, error) {
	to := e.accounts[(a+1)%len(e.accounts)].addr
	return banktypes.NewMsgSend(e.accounts[a].addr, to, sdk.NewCoins(sdk.NewInt64Coin(chainparams.BondDenom, 1))), nil
}

// joinMsgs: guest a asks to join its join meeting with a fresh ephemeral
// key; each join meeting ends with tpPerJoinMeeting pending requests.
func (e *tpEnv) joinMsgs(a int) (sdk.Msg, error) {
	eph, err := tpEphKey()
	if err != nil {
		return nil, err
	}
	return e.requestMsg(e.accounts[a], e.joinMeetings[a/tpPerJoinMeeting], e.guests[a], eph), nil
}

// commitMsgs: the leader of commit meeting a commits the next epoch with
// the same roster (a rotation) and a new key commitment.
func (e *tpEnv) commitMsgs(a int) (sdk.Msg, error) {
	m := e.commitMeetings[a]
	m.epoch++
	return e.commitMsg(e.accounts[a], m, m.epoch, meetingtypes.Reason_REASON_ROTATE), nil
}

// measure runs one round of a kind, one message per account.
func (e *tpEnv) measure(ctx context.Context, b *testing.B, kind string, msg func(a int) (sdk.Msg, error)) tpSpan {
	b.Helper()
	b.StopTimer()
	all := make([][]sdk.Msg, len(e.accounts))
	for a := range all {
		m, err := msg(a)
		if err != nil {
			b.Fatalf("%s: %v", kind, err)
		}
		all[a] = []sdk.Msg{m}
	}
	b.StartTimer()
	span, _, err := e.round(ctx, kind, all)
	if err != nil {
		b.Fatal(err)
	}
	return span
}

// round signs one tx per account carrying msgs[a] with the account's next
// sequence, broadcasts them all in sync mode from tpWorkers goroutines,
// waits until every one is in a block, and returns where they landed and
// each account's height. A tx refused at CheckTx or failed in its block is
// an error.
func (e *tpEnv) round(ctx context.Context, kind string, msgs [][]sdk.Msg) (tpSpan, []int64, error) {
	// Account 0 carries the largest tx of every round.
	gas, err := e.simulate(ctx, e.accounts[0], msgs[0])
	if err != nil {
		return tpSpan{}, nil, fmt.Errorf("%s: simulating: %w", kind, err)
	}
	txs := make([][]byte, len(e.accounts))
	index := make(map[string]int, len(e.accounts))
	for a, acc := range e.accounts {
		if txs[a], err = e.sign(ctx, acc, gas, msgs[a]); err != nil {
			return tpSpan{}, nil, fmt.Errorf("%s: signing account %d's tx: %w", kind, a, err)
		}
		index[string(cmttypes.Tx(txs[a]).Hash())] = a
	}
	status, err := e.blocks.Status(ctx)
	if err != nil {
		return tpSpan{}, nil, err
	}
	from := status.SyncInfo.LatestBlockHeight

	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for w := range tpWorkers {
		g.Go(func() error {
			for a := w; a < len(txs); a += tpWorkers {
				acc := e.accounts[a]
				res, err := acc.rpc.BroadcastTxSync(gctx, txs[a])
				if err != nil {
					return fmt.Errorf("%s: broadcasting account %d's tx: %w", kind, a, err)
				}
				if res.Code != 0 {
					return fmt.Errorf("%s: account %d's tx (sequence %d) refused at CheckTx: code %d (%s): %s",
						kind, a, acc.seq, res.Code, res.Codespace, res.Log)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return tpSpan{}, nil, err
	}
	submit := time.Since(start)
	for _, acc := range e.accounts {
		acc.seq++
	}

	wctx, cancel := context.WithTimeout(ctx, tpCommitWait)
	defer cancel()
	span, heights, err := e.committed(wctx, kind, from, index)
	if err != nil {
		return span, nil, err
	}
	span.submit, span.gas = submit, gas
	return span, heights, nil
}

func (e *tpEnv) unsigned(acc *tpAccount, seq, gas uint64, msgs []sdk.Msg) (client.TxBuilder, error) {
	txf := tx.Factory{}.
		WithTxConfig(e.codec.TxConfig).
		WithChainID(e.chainID).
		WithAccountNumber(acc.num).
		WithSequence(seq).
		WithGas(gas)
	builder, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	// The signer info (public key, mode, sequence) is part of the signed
	// bytes in direct mode, so it goes in before signing.
	err = builder.SetSignatures(signing.SignatureV2{
		PubKey: acc.priv.PubKey(), Data: &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT}, Sequence: seq,
	})
	return builder, err
}

// simulate returns the adjusted gas of a tx from acc carrying msgs.
func (e *tpEnv) simulate(ctx context.Context, acc *tpAccount, msgs []sdk.Msg) (uint64, error) {
	builder, err := e.unsigned(acc, acc.seq, 0, msgs)
	if err != nil {
		return 0, err
	}
	bz, err := e.codec.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return 0, err
	}
	res, err := txtypes.NewServiceClient(e.query).Simulate(ctx, &txtypes.SimulateRequest{TxBytes: bz})
	if err != nil {
		return 0, err
	}
	return uint64(tpGasAdjustment * float64(res.GasInfo.GasUsed)), nil
}

// sign signs a tx from acc carrying msgs offline, with the account's
// number and next sequence.
func (e *tpEnv) sign(ctx context.Context, acc *tpAccount, gas uint64, msgs []sdk.Msg) ([]byte, error) {
	builder, err := e.unsigned(acc, acc.seq, gas, msgs)
	if err != nil {
		return nil, err
	}
	signer := authsigning.SignerData{
		ChainID: e.chainID, AccountNumber: acc.num, Sequence: acc.seq, PubKey: acc.priv.PubKey(), Address: acc.addr.String(),
	}
	sig, err := tx.SignWithPrivKey(ctx, signing.SignMode_SIGN_MODE_DIRECT, signer, builder, acc.priv, e.codec.TxConfig, acc.seq)
	if err != nil {
		return nil, err
	}
	if err := builder.SetSignatures(sig); err != nil {
		return nil, err
	}
	return e.codec.TxConfig.TxEncoder()(builder.GetTx())
}

// tpSpan is where one round's txs landed.
type tpSpan struct {
	kind        string
	txs         int
	first, last int64     // the first and last heights holding one of them
	start, end  time.Time // the header times of blocks first and last+1
	maxPerBlock int
	submit      time.Duration // from the first broadcast to the last CheckTx answer
	gas         uint64        // the gas limit of each tx
}

// rate is the committed txs per second of block time:
//
//	rate = txs / (time(H_last + 1) − time(H_first))
//
// where txs counts the round's txs (all of them: every one must have
// succeeded), H_first and H_last are the first and last heights holding
// one, and time(h) is block h's header time. CometBFT's header time
// (BFT time) is the median of the validators' precommit times for the
// block before, so time(h+1) is when block h was committed: the span runs
// from the commit of block H_first − 1, after which the mempool feeds
// H_first, to the commit of block H_last. It is H_last − H_first + 1
// block intervals, all spent on this round: nothing else is submitted
// meanwhile, and a round starts after the previous one is committed.
func (s tpSpan) rate() float64 { return float64(s.txs) / s.end.Sub(s.start).Seconds() }

func (s tpSpan) String() string {
	return fmt.Sprintf("%s: %d txs in heights %d..%d (%d blocks, at most %d in one), %.2f s of block time → %.1f tx/s; "+
		"submitted in %.2f s (%.1f tx/s through CheckTx); gas limit %d per tx",
		s.kind, s.txs, s.first, s.last, s.last-s.first+1, s.maxPerBlock, s.end.Sub(s.start).Seconds(), s.rate(),
		s.submit.Seconds(), float64(s.txs)/s.submit.Seconds(), s.gas)
}

// committed reads node 0's blocks after height from until every tx in
// index (by hash, giving the account) is in one, checks each one's result,
// and returns the span and each account's height.
func (e *tpEnv) committed(ctx context.Context, kind string, from int64, index map[string]int) (tpSpan, []int64, error) {
	span := tpSpan{kind: kind}
	heights := make([]int64, len(index))
	left := len(index)
	var failed []string
	resultsTries := 0
	for next := from + 1; left > 0; {
		status, err := e.blocks.Status(ctx)
		if err != nil {
			return span, nil, fmt.Errorf("%s: waiting for %d txs: %w", kind, left, err)
		}
		for ; next <= status.SyncInfo.LatestBlockHeight && left > 0; next++ {
			blk, err := e.blocks.Block(ctx, &next)
			if err != nil {
				return span, nil, fmt.Errorf("%s: block %d: %w", kind, next, err)
			}
			res, err := e.blocks.BlockResults(ctx, &next)
			if err != nil {
				// The node reports a height once the block is stored, a
				// moment before its results are: try again shortly.
				if resultsTries++; resultsTries < 50 {
					break
				}
				return span, nil, fmt.Errorf("%s: results of block %d: %w", kind, next, err)
			}
			resultsTries = 0
			if len(res.TxsResults) != len(blk.Block.Txs) {
				return span, nil, fmt.Errorf("%s: block %d has %d txs and %d results", kind, next, len(blk.Block.Txs), len(res.TxsResults))
			}
			ours := 0
			for i, t := range blk.Block.Txs {
				a, ok := index[string(t.Hash())]
				if !ok {
					continue
				}
				ours++
				heights[a] = next
				if r := res.TxsResults[i]; r.Code != 0 {
					failed = append(failed, fmt.Sprintf("account %d's tx at height %d: code %d (%s): %s", a, next, r.Code, r.Codespace, r.Log))
				}
			}
			if ours == 0 {
				continue
			}
			left -= ours
			if span.first == 0 {
				span.first, span.start = next, blk.Block.Time
			}
			span.last = next
			span.txs += ours
			span.maxPerBlock = max(span.maxPerBlock, ours)
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return span, nil, fmt.Errorf("%s: %d of %d txs still not in a block at height %d: %w", kind, left, len(index), next-1, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if len(failed) > 0 {
		return span, nil, fmt.Errorf("%s: %d of %d txs failed in their blocks; the first:\n%s",
			kind, len(failed), len(index), strings.Join(failed[:min(5, len(failed))], "\n"))
	}
	end, err := e.blockTime(ctx, span.last+1)
	if err != nil {
		return span, nil, fmt.Errorf("%s: %w", kind, err)
	}
	span.end = end
	return span, heights, nil
}

// blockTime waits for block h on node 0 and returns its header time.
func (e *tpEnv) blockTime(ctx context.Context, h int64) (time.Time, error) {
	for {
		status, err := e.blocks.Status(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if status.SyncInfo.LatestBlockHeight >= h {
			blk, err := e.blocks.Block(ctx, &h)
			if err != nil {
				return time.Time{}, fmt.Errorf("block %d: %w", h, err)
			}
			return blk.Block.Time, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("waiting for block %d: %w", h, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
