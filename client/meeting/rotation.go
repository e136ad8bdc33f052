package meeting

import (
	"context"
	"fmt"

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
// rekey, and forgets the previous key once an epoch is sealed to the new.
func (s *Session) maybeRotate(ctx context.Context) error {
	s.mu.Lock()
	ep := s.last
	dropped := s.ephPrev != nil && ep.current
	if dropped {
		s.ephPrev = nil
	}
	due := ep.reason == meetingtypes.Reason_REASON_ROTATE && s.rotated < ep.number
	if due {
		s.rotated = ep.number
	}
	s.mu.Unlock()
	if dropped {
		s.ownKeysChanged()
	}
	if !due {
		return nil
	}
	_, priv, err := RotateEphKey(ctx, s.cfg.Chain, s.cfg.Eph, s.cfg.Device, s.cfg.MeetingID)
	if err != nil {
		return fmt.Errorf("rotating this device's ephemeral key: %w", err)
	}
	if err := s.cfg.Eph.Promote(s.cfg.MeetingID, s.cfg.Device); err != nil {
		return fmt.Errorf("storing the rotated ephemeral key: %w", err)
	}
	s.mu.Lock()
	s.ephPrev, s.eph = s.eph, priv
	s.mu.Unlock()
	s.ownKeysChanged()
	s.cfg.OnEvent(EventRotated{Epoch: ep.number})
	return s.subscribe(ctx)
}
