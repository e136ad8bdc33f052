package verify

import (
	"bytes"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/merkle"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
)

// proofRuntime knows the two ICS23 proof operators of the SDK's
// multistore: the IAVL proof of a key in a module's store, then the
// simple-Merkle proof of that store's root in the app hash.
func proofRuntime() *merkle.ProofRuntime {
	prt := merkle.NewProofRuntime()
	prt.RegisterOpDecoder(storetypes.ProofOpIAVLCommitment, storetypes.CommitmentOpDecoder)
	prt.RegisterOpDecoder(storetypes.ProofOpSimpleMerkleCommitment, storetypes.CommitmentOpDecoder)
	return prt
}

// storePath is the ABCI query path of a raw read of one store.
func storePath(store string) string { return "/store/" + store + "/key" }

// checkQuery checks a node's answer to a raw store read of key in store at
// height against appHash, the app hash in the verified header height+1.
// It returns the value, or ErrNotFound when the answer proves the key
// absent. Everything about the answer is checked against what was asked,
// never taken from the answer: the height, the key and the store.
func checkQuery(prt *merkle.ProofRuntime, node, what, store string, key []byte, height int64, appHash []byte, resp abci.ResponseQuery) ([]byte, error) {
	if err := checkShape(node, what, key, height, resp); err != nil {
		return nil, err
	}
	kp := merkle.KeyPath{}.AppendKey([]byte(store), merkle.KeyEncodingURL).AppendKey(key, merkle.KeyEncodingURL)
	if len(resp.Value) == 0 {
		if err := prt.VerifyAbsence(resp.ProofOps, appHash, kp.String()); err != nil {
			return nil, lie(node, what, height, "it says there is none, but its proof of absence does not check out against the app hash of header %d", height+1)
		}
		return nil, fmt.Errorf("%s at height %d: %w", what, height, ErrNotFound)
	}
	if err := prt.VerifyValue(resp.ProofOps, appHash, kp.String(), resp.Value); err != nil {
		// (The proof library's own message quotes raw key and value bytes.)
		return nil, lie(node, what, height, "the value it gave does not match its proof and the app hash of header %d", height+1)
	}
	return resp.Value, nil
}

// checkShape checks what can be checked of an answer before its header is
// known: it answers for the height and key asked, with the two proof
// operators the multistore makes.
func checkShape(node, what string, key []byte, height int64, resp abci.ResponseQuery) error {
	switch {
	case resp.Code != 0:
		return lie(node, what, height, "the node refused the query: code %d (%s) %s", resp.Code, resp.Codespace, resp.Log)
	case resp.Height != height:
		return lie(node, what, height, "answered for height %d", resp.Height)
	case !bytes.Equal(resp.Key, key):
		return lie(node, what, height, "answered for key %X, not %X", resp.Key, key)
	case resp.ProofOps == nil || len(resp.ProofOps.Ops) != 2:
		return lie(node, what, height, "no proof (want 2 proof operators)")
	case resp.ProofOps.Ops[0].Type != storetypes.ProofOpIAVLCommitment || resp.ProofOps.Ops[1].Type != storetypes.ProofOpSimpleMerkleCommitment:
		// The first operator must be the store's IAVL proof and the second
		// the multistore's: a proof under another spec at either level is
		// refused, not interpreted.
		return lie(node, what, height, "proof operators %q, %q; want %q then %q", resp.ProofOps.Ops[0].Type, resp.ProofOps.Ops[1].Type,
			storetypes.ProofOpIAVLCommitment, storetypes.ProofOpSimpleMerkleCommitment)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
