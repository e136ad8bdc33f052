package verify

import (
	"bytes"
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"
)

// TxOutcome is a transaction's result as proven: it is in block Height
// (a Merkle proof against that header's data hash) and its result is the
// one the next header's last-results hash commits to. Code, Data and the
// gas figures are the deterministic part of the result; the log and
// events are not committed by any header and so are not here.
type TxOutcome struct {
	Hash      []byte
	Height    int64
	Index     uint32
	Code      uint32
	Codespace string // as the node said (not proven)
	Data      []byte
	GasUsed   int64
}

// Tx proves the outcome of the transaction with the given hash, waiting
// (until ctx ends) for the header after its block.
func (r *Reader) Tx(ctx context.Context, hash []byte) (TxOutcome, error) {
	if r.headers == nil {
		return TxOutcome{}, ErrUnverified
	}
	var out TxOutcome
	err := r.chain.RPC(ctx, func(ctx context.Context, node string, rpc rpcclient.Client) error {
		var err error
		out, err = r.proveTx(ctx, node, rpc, hash)
		return err
	})
	return out, err
}

func (r *Reader) proveTx(ctx context.Context, node string, rpc rpcclient.Client, hash []byte) (TxOutcome, error) {
	what := fmt.Sprintf("tx %X", hash)
	res, err := rpc.Tx(ctx, hash, true)
	if err != nil {
		return TxOutcome{}, err
	}
	switch {
	case res.Height <= 0:
		return TxOutcome{}, lie(node, what, res.Height, "no height")
	case !bytes.Equal(res.Tx.Hash(), hash):
		return TxOutcome{}, lie(node, what, res.Height, "served a transaction with hash %X", res.Tx.Hash())
	case !bytes.Equal(res.Proof.Data, res.Tx) || res.Proof.Proof.Index != int64(res.Index):
		return TxOutcome{}, lie(node, what, res.Height, "its inclusion proof is for another transaction or position")
	}
	block, err := r.headers.At(ctx, res.Height)
	if err != nil {
		return TxOutcome{}, err
	}
	if err := res.Proof.Validate(block.DataHash); err != nil {
		return TxOutcome{}, lie(node, what, res.Height, "inclusion proof: %v", err)
	}
	results, err := rpc.BlockResults(ctx, &res.Height)
	if err != nil {
		return TxOutcome{}, err
	}
	next, err := r.headers.At(ctx, res.Height+1)
	if err != nil {
		return TxOutcome{}, err
	}
	if got := types.NewResults(results.TxsResults).Hash(); !bytes.Equal(got, next.LastResultsHash) {
		return TxOutcome{}, lie(node, what, res.Height, "block results hash %X, header %d commits to %X", got, res.Height+1, next.LastResultsHash)
	}
	if int(res.Index) >= len(results.TxsResults) {
		return TxOutcome{}, lie(node, what, res.Height, "index %d beyond the block's %d results", res.Index, len(results.TxsResults))
	}
	proven := abci.DeterministicExecTxResult(results.TxsResults[res.Index])
	if proven.Code != res.TxResult.Code || !bytes.Equal(proven.Data, res.TxResult.Data) {
		return TxOutcome{}, lie(node, what, res.Height, "said code %d, the committed result is code %d", res.TxResult.Code, proven.Code)
	}
	return TxOutcome{
		Hash: hash, Height: res.Height, Index: res.Index, Code: proven.Code, Codespace: results.TxsResults[res.Index].Codespace,
		Data: proven.Data, GasUsed: proven.GasUsed,
	}, nil
}
