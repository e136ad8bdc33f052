package chain

import "errors"

// Sentinel errors of chain access.
var (
	// ErrTxFailed means the chain rejected or failed a transaction; the
	// wrapped message is the chain's own error, naming the field and why.
	ErrTxFailed = errors.New("transaction failed")
	// ErrTxTimeout means a broadcast transaction was not seen in a block in
	// time; it may still be committed later.
	ErrTxTimeout = errors.New("transaction not committed in time")
	// ErrUnreachable means the node did not answer.
	ErrUnreachable = errors.New("node unreachable")
)
