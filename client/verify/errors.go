package verify

import (
	"errors"
	"fmt"

	"github.com/parleynet/parley/client/chain"
)

// Sentinel errors.
var (
	// ErrNoAnchor: no trust anchor is set for the chain.
	ErrNoAnchor = errors.New("no trust anchor for this chain: run `parley trust init` (and compare the header hash it prints out of band) or pass --trust HEIGHT:HASH")
	// ErrAnchorExpired: the newest trusted header is older than the
	// trusting period, so the validators that signed it may have unbonded.
	ErrAnchorExpired = errors.New("the trust anchor is older than its trusting period: re-anchor with `parley trust init` (compare the hash out of band) or --trust HEIGHT:HASH")
	// ErrAttack: two nodes served conflicting signed headers for one
	// height. Either validators signed two blocks (more than a third of
	// them are faulty) or a node is attacking this client; neither node is
	// used again.
	ErrAttack = errors.New("possible attack: nodes served conflicting signed headers")
	// ErrAnchorMismatch: an anchor from elsewhere (an invite) names a
	// header that is not on the chain this client verifies.
	ErrAnchorMismatch = errors.New("the trust anchor does not match this chain: compare anchors out of band")
	// ErrNotFound: the chain proves that the key holds no value.
	ErrNotFound = errors.New("not on chain (proven absent)")
	// ErrNoNodes: every node was stopped being used.
	ErrNoNodes = errors.New("no node left to use")
	// ErrUnverified: verification is off (a debugging flag); nothing read
	// is proven.
	ErrUnverified = errors.New("verification is switched off")
)

// UnprovenTxError: a node reported the transaction in a block, but its
// outcome could not be proven (the proof read failed: a node without that
// height, a halted chain). Its fate is unknown, as a chain.PendingTxError's
// is: it may have landed, and a caller that made state for it (a key)
// keeps that state until the chain tells.
type UnprovenTxError struct {
	Hash string
	Err  error
}

func (e *UnprovenTxError) Error() string {
	return fmt.Sprintf("transaction %s: its outcome could not be proven: %v", e.Hash, e.Err)
}

func (e *UnprovenTxError) Unwrap() error { return e.Err }

// LieError reports a node whose answer failed verification: what it was
// asked, at which height, and why the answer does not hold. It wraps
// chain.ErrBadAnswer, so that client/chain leaves the node.
type LieError struct {
	Node   string
	What   string // e.g. "device bob/phone", "header 1234", "tx 5A3F…"
	Height int64
	Err    error
}

func (e *LieError) Error() string {
	return fmt.Sprintf("node %s: its answer about %s at height %d does not verify: %v", e.Node, e.What, e.Height, e.Err)
}

// Unwrap exposes chain.ErrBadAnswer and the reason.
func (e *LieError) Unwrap() []error { return []error{chain.ErrBadAnswer, e.Err} }

func lie(node, what string, height int64, format string, args ...any) *LieError {
	return &LieError{Node: node, What: what, Height: height, Err: fmt.Errorf(format, args...)}
}
