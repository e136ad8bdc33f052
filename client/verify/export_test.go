package verify

import (
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/light/store"
)

// Test hooks.

// AppHash is the app hash a snapshot checks against.
func (s *Snapshot) AppHash() []byte { return s.appHash }

// ProofChecker runs the proof check of one query answer.
type ProofChecker struct{ prt *merkle.ProofRuntime }

func NewProofChecker() ProofChecker { return ProofChecker{proofRuntime()} }

func (p ProofChecker) Check(node, store string, key []byte, height int64, appHash []byte, resp abci.ResponseQuery) ([]byte, error) {
	return checkQuery(p.prt, node, "bench", store, key, height, appHash, resp)
}

// StorePath is the ABCI query path of a store.
func StorePath(store string) string { return storePath(store) }

// NewMemStore is the light client's trusted store.
func NewMemStore() store.Store { return newMemStore() }
