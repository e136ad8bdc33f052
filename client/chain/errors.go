package chain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors of chain access.
var (
	// ErrTxFailed means the chain rejected or failed a transaction; the
	// wrapped message is the chain's own error, naming the field and why.
	ErrTxFailed = errors.New("transaction failed")
	// ErrTxTimeout means a broadcast transaction was not seen in a block in
	// time; it may still be committed later.
	ErrTxTimeout = errors.New("transaction not committed in time")
	// ErrUnreachable means no node answered.
	ErrUnreachable = errors.New("node unreachable")
	// ErrChainHalted means no new block was seen for Config.HaltAfter
	// while waiting for a transaction.
	ErrChainHalted = errors.New("chain halted: no new block")
	// ErrBadAnswer means a node answered, but its answer failed
	// verification: a proof that does not check out against a
	// light-verified header, an answer for another height or key. The
	// client leaves such a node as it leaves one that does not answer.
	ErrBadAnswer = errors.New("the node's answer failed verification")
	// ErrCannotServe means a node answered that it cannot serve a request
	// at the height asked (not yet committed there, or pruned): no lie,
	// but another node may serve it.
	ErrCannotServe = errors.New("the node cannot serve that height")
	// ErrAccountUnknown means the paying account is not on the chain:
	// nobody has sent it tokens or granted it fees yet.
	ErrAccountUnknown = errors.New("the account is not on the chain yet")
	// ErrFeeGrant means the fee granter would not pay for a transaction:
	// there is no grant to this account, it expired or is spent, or it
	// does not cover these messages. It comes wrapped in ErrTxFailed.
	ErrFeeGrant = errors.New("the fee grant does not cover this transaction")
)

// PendingTxError reports a transaction that was signed and sent but is
// not known to be in a block, nor to have been rejected: it may still be
// committed. Ask about it later with Client.TxStatus(ctx, Hash). Err says
// why the wait stopped (ErrChainHalted, ErrTxTimeout, ErrUnreachable, or
// the caller's context).
type PendingTxError struct {
	Hash string
	Err  error
}

// Error names the transaction and why its wait ended.
func (e *PendingTxError) Error() string {
	return fmt.Sprintf("transaction %s sent but not confirmed in a block (it may still be; check it by this hash): %v", e.Hash, e.Err)
}

// Unwrap lets errors.Is see the reason (ErrChainHalted, ErrTxTimeout, …).
func (e *PendingTxError) Unwrap() error { return e.Err }

// Noise the SDK wraps around a module's error message.
var (
	grpcPrefix  = regexp.MustCompile(`^(rpc error: code = \w+ desc = )+`)
	execPrefix  = regexp.MustCompile(`failed to execute message; message index: \d+: `)
	sourceTrace = regexp.MustCompile(` \[[^\]]*\.go:\d+\]`)
	gasSuffix   = regexp.MustCompile(` with gas used: '\d+'(: unknown request)?$`)
)

// chainMessage strips the gRPC and SDK wrapping from a chain error so the
// person sees the module's own message: which field, and why.
func chainMessage(err error) string {
	msg := grpcPrefix.ReplaceAllString(err.Error(), "")
	msg = execPrefix.ReplaceAllString(msg, "")
	msg = sourceTrace.ReplaceAllString(msg, "")
	return strings.TrimSpace(gasSuffix.ReplaceAllString(msg, ""))
}

// txFailed wraps a chain's refusal in ErrTxFailed, and also in ErrFeeGrant
// when the refusal is the fee granter's (x/auth's fee decorator wraps
// x/feegrant's errors in "... does not allow to pay fees for ...").
func (c *Client) txFailed(msg string) error {
	if c.granter != nil && (strings.Contains(msg, "does not allow to pay fees") || strings.Contains(msg, "fee-grant not found")) {
		return fmt.Errorf("%w: %w: %s", ErrTxFailed, ErrFeeGrant, msg)
	}
	return fmt.Errorf("%w: %s", ErrTxFailed, msg)
}
