package mailbox

import (
	"context"
	"fmt"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Intake is the one way into the store, shared by Post and the p2p
// reactor, so that an envelope is judged the same whichever way it came.
type Intake struct {
	store    *Store
	verifier *Verifier
	limiter  *RateLimiter
}

// NewIntake puts verifier and limiter in front of store.
func NewIntake(store *Store, verifier *Verifier, limiter *RateLimiter) *Intake {
	return &Intake{store: store, verifier: verifier, limiter: limiter}
}

// Store returns the store behind the intake.
func (in *Intake) Store() *Store { return in.store }

// Accept checks e and stores it, cheapest checks first: shape, clock,
// duplicate, signature, the sender's rate, room in the store. It returns
// e's ID (once the shape is valid) and nil, ErrDuplicate when e is already
// stored (and nothing else was done), or why e was refused. Tokens are
// taken only for envelopes the sender really signed, so nobody can spend
// another device's rate.
func (in *Intake) Accept(ctx context.Context, e *mailboxv1.Envelope) ([mailboxv1.IDSize]byte, error) {
	var id [mailboxv1.IDSize]byte
	if err := mailboxv1.Validate(e); err != nil {
		return id, err
	}
	if err := in.store.CheckTime(e); err != nil {
		return id, err
	}
	id = mailboxv1.ID(e)
	if in.store.Has(id) {
		return id, fmt.Errorf("%w: %x", ErrDuplicate, id[:8])
	}
	if err := in.verifier.Verify(ctx, e); err != nil {
		return id, err
	}
	if !in.limiter.Allow(senderKey(e.FromUser, e.FromDevice)) {
		return id, fmt.Errorf("%w: device %s/%s sends more than %g envelopes per second (burst %d)",
			ErrRateLimited, e.FromUser, e.FromDevice, in.limiter.cfg.Rate, in.limiter.cfg.Burst)
	}
	return id, in.store.add(id, e)
}
