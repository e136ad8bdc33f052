package meeting

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Acting one block early. A verified value of block H needs the header of
// H+1, which comes a block later; waiting for it at each step of a join
// (the leader's commit, then the member's read of it) costs two blocks.
// Two things are done early instead, each safe for its own reason, and
// each confirmed when its header arrives (PROTOCOL.md section 10):
//
//   - The leader seals and installs as soon as its commit is in a block and
//     every read it rests on is proven (the roster's requests and devices),
//     and proves the commit's outcome a block later (unprovenCommit). The
//     key goes only to proven ephemeral keys either way.
//   - A member installs an epoch the newest block holds, read tentatively,
//     when the envelope of the epoch's leader opens against it
//     (installEarly). The envelope vouches for the record: its signature,
//     by a device key read with a proof, covers the roster hash, which
//     covers every member and ephemeral-key hash, and the key it carries
//     must match the record's key commitment. Every member's device and
//     request, and the leader's device, are read with proofs from the
//     newest proven state, which holds them already (the leader admitted
//     them from it). Only the record's existence on chain is the node's
//     word, until confirmEarly checks the tentative reads.
//
// A confirmation that fails names the node (the client leaves it) and
// reads the epoch again, proven, from the next: if the chain holds the
// epoch as installed — number, leader, roster hash, key commitment — the
// call goes on and the lie is reported; if not, the session ends with
// ErrNotConfirmed.

// installedEpoch is what an epoch installed early must be on chain.
type installedEpoch struct {
	number     uint64
	leader     DeviceRef
	rosterHash []byte
	commitment []byte
}

// earlyEpoch is a member's epoch installed from tentative reads of tip.
type earlyEpoch struct {
	tip *verify.Snapshot
	installedEpoch
}

// unprovenCommit is the leader's commit installed before its outcome was
// proven.
type unprovenCommit struct {
	res *sdk.TxResponse
	installedEpoch
}

// installEarly installs the next epoch from the newest block when its
// envelope has arrived and the proven snapshot does not show it yet. What
// fails here is left to the proven step, which reports it: a tentative
// read may fail for reasons that are gone a block later.
func (s *Session) installEarly(ctx context.Context, proven *verify.Snapshot, m meetingtypes.Meeting) {
	if !s.cfg.Chain.Reader().Verified() {
		return // unverified reads are the newest block already
	}
	s.mu.Lock()
	next, waiting := s.envs.next(s.installed)
	busy := s.early != nil || s.leader != nil
	s.mu.Unlock()
	if busy || !waiting || next <= m.Epoch {
		return
	}
	tip, err := s.cfg.Chain.Reader().Tip(ctx)
	if err != nil || tip.Height() <= proven.Height() {
		return
	}
	var (
		tm meetingtypes.Meeting
		e  meetingtypes.Epoch
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { tm, err = tip.Meeting(gctx, s.cfg.MeetingID); return err })
	g.Go(func() (err error) { e, err = tip.Epoch(gctx, s.cfg.MeetingID, next); return err })
	if g.Wait() != nil || tm.Epoch != next || tm.Status != meetingtypes.Status_STATUS_OPEN {
		return
	}
	self := meetingtypes.SenderIndex(e.Members, s.cfg.Device.UserID, s.cfg.Device.DeviceID)
	if self < 0 {
		return // a removal is acted on when proven
	}
	_ = s.tryEnvelopes(ctx, proven, e, self, tip)
}

// confirmEarly checks the tentative reads an early epoch rests on (the
// meeting and epoch records) once the proven snapshot has reached their
// height.
func (s *Session) confirmEarly(ctx context.Context, proven *verify.Snapshot) error {
	s.mu.Lock()
	e := s.early
	s.mu.Unlock()
	if e == nil || proven.Height() < e.tip.Height() {
		return nil
	}
	err := e.tip.Confirm(ctx)
	if err != nil && !errors.Is(err, chain.ErrBadAnswer) {
		return err // the header is not to be had now: try again
	}
	s.mu.Lock()
	s.early = nil
	s.mu.Unlock()
	if err != nil {
		return s.caught(ctx, proven, e.installedEpoch, fmt.Errorf("epoch %d, installed from block %d: %w", e.number, e.tip.Height(), err))
	}
	return nil
}

// proveCommit proves the outcome of the commit the leader installed — the
// chain committed exactly that epoch with that roster hash — once the
// proven snapshot shows the header after the commit's block is verified
// (so the proof does not wait). A proof not to be had for a few blocks
// more (no node has the transaction) counts as a lie.
func (s *Session) proveCommit(ctx context.Context, proven *verify.Snapshot) error {
	s.mu.Lock()
	u := s.unproven
	s.mu.Unlock()
	if u == nil || proven.Height() < u.res.Height {
		return nil
	}
	out, err := s.cfg.Chain.ProveTx(ctx, u.res)
	if err == nil && s.cfg.Chain.Reader().Verified() {
		err = checkCommitOutcome(out, u.number, u.rosterHash)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err() // the session is stopping: nothing is known
	case err != nil && !errors.Is(err, chain.ErrBadAnswer) && proven.Height() < u.res.Height+commitProofBlocks:
		return err // perhaps a node that did not answer: at the next step
	}
	s.mu.Lock()
	s.unproven = nil
	s.mu.Unlock()
	if err != nil {
		return s.caught(ctx, proven, u.installedEpoch, fmt.Errorf("the commit of epoch %d, said to be in block %d: %w", u.number, u.res.Height, err))
	}
	return nil
}

// commitProofBlocks is how many blocks past a commit's block the chain may
// go with no node proving the commit before the leader takes it as never
// made.
const commitProofBlocks = 3

// caught deals with an early epoch whose confirmation failed (lie): the
// epoch is read again with a proof, through the next node, at a height
// that holds it. The same epoch on chain: the lie is reported and the call
// goes on. Anything else ends the session.
func (s *Session) caught(ctx context.Context, proven *verify.Snapshot, want installedEpoch, lie error) error {
	s.dir.forget()
	latest, err := s.cfg.Chain.Reader().Latest(ctx)
	if ctx.Err() != nil {
		return ctx.Err() // the session is stopping: nothing is known
	}
	if err == nil && latest.Height() < proven.Height() {
		latest = proven
	}
	var got meetingtypes.Epoch
	if err == nil {
		got, err = latest.Epoch(ctx, s.cfg.MeetingID, want.number)
	}
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w; reading it again: %w", ErrNotConfirmed, lie, err)
	case got.LeaderUser != want.leader.User || got.LeaderDevice != want.leader.Device ||
		!bytes.Equal(got.RosterHash, want.rosterHash) || !bytes.Equal(got.KeyCommitment, want.commitment):
		return fmt.Errorf("%w: %w; the chain's epoch %d is another (leader %s/%s, roster hash %X)", ErrNotConfirmed, lie, want.number, got.LeaderUser, got.LeaderDevice, got.RosterHash)
	}
	s.cfg.OnEvent(EventProblem{Peer: "node", Err: fmt.Errorf("%w (the epoch itself is as installed: the call goes on)", lie)})
	return nil
}

// proving says whether this leader's last commit awaits its proof (and
// no next one may be made on top of it).
func (s *Session) proving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unproven != nil
}
