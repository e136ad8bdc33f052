package meeting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/verify"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Post-compromise security: every device rotates its ephemeral key after
// each periodic rekey (an epoch of reason rotate), so the next periodic
// epoch, which the leader seals to the newest key of each member, opens
// with the new key only. Whoever copied an ephemeral key reads no epoch
// sealed after the device's next rotation. The previous key is kept in
// memory (only) until an epoch sealed to the new one is installed, for
// what is still sealed to it; on disk only the newest is kept, encrypted
// (EphStore).

// installedKey is what maybeRotate needs of the newest installed epoch.
type installedKey struct {
	number uint64
	reason meetingtypes.Reason
	// current: the epoch's roster lists this device's current key (not
	// the one before a rotation).
	current bool
}

// maybeRotate rotates this device's ephemeral key once after a periodic
// rekey (or any epoch, RotateEvery after its key was made), and forgets the previous key once an epoch is sealed to the new.
func (s *Session) maybeRotate(ctx context.Context) error {
	s.mu.Lock()
	ep := s.last
	dropped := s.ephPrev != nil && ep.current
	if dropped {
		s.ephPrev = nil
	}
	// After a periodic rekey, or after any epoch once RotateEvery has
	// passed since this device's key was made: in a meeting whose members
	// change more often than RotateEvery, no epoch is of reason rotate
	// (each restarts the leader's clock), and keys must heal all the same.
	due := s.rotated < ep.number && ep.number > 0 &&
		(ep.reason == meetingtypes.Reason_REASON_ROTATE || time.Since(s.keyMade) >= s.cfg.RotateEvery)
	if due {
		s.rotated, s.keyMade = ep.number, time.Now()
	}
	s.mu.Unlock()
	if dropped {
		s.ownKeysChanged()
	}
	if !due {
		return nil
	}
	_, priv, err := RotateEphKey(ctx, s.cfg.Chain, s.cfg.Eph, s.cfg.Device, s.cfg.MeetingID)
	var pending *chain.PendingTxError
	var unproven *verify.UnprovenTxError
	switch {
	case err != nil && (errors.As(err, &pending) || errors.As(err, &unproven)) && priv != nil:
		// It may have landed: keep the new key beside the current one
		// (on disk as the successor) until an epoch's roster says which
		// the chain holds (install).
		s.mu.Lock()
		s.ephCand = priv
		s.mu.Unlock()
		s.ownKeysChanged()
		err = fmt.Errorf("rotating this device's ephemeral key: not known whether the chain took it; keeping both keys until the next epoch tells: %w", err)
		// If it landed, the next epoch is sealed to the new key: the
		// mailbox must deliver what is posted to it too.
		if serr := s.subscribe(ctx); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	case err != nil:
		return fmt.Errorf("rotating this device's ephemeral key: %w", err)
	}
	if err := s.cfg.Eph.Promote(s.cfg.MeetingID, s.cfg.Device); err != nil {
		return fmt.Errorf("storing the rotated ephemeral key: %w", err)
	}
	s.mu.Lock()
	s.ephPrev, s.eph, s.ephCand = s.eph, priv, nil
	// The installed epoch lists the key just replaced, not this one: the
	// previous key stays until an epoch sealed to the new is installed.
	s.last.current = false
	s.mu.Unlock()
	s.ownKeysChanged()
	s.cfg.OnEvent(EventRotated{Epoch: ep.number})
	return s.subscribe(ctx)
}
