package meeting

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// memberStep installs the newest epoch's key once its envelope has
// arrived and checks out against the proven epoch, notices a removal, and
// claims leadership when the leader timed out and this device is first in
// line. Everything it reads is proven (snap).
func (s *Session) memberStep(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting) error {
	s.mu.Lock()
	installed, was, leading := s.installed, s.wasMember, s.leader != nil
	s.mu.Unlock()
	if err := s.expectLeader(ctx, snap, m); err != nil {
		return err
	}
	if err := s.readNotices(ctx, snap, m); err != nil {
		return err
	}
	if m.Epoch > installed && !leading {
		e, err := snap.Epoch(ctx, s.cfg.MeetingID, m.Epoch)
		if err != nil {
			return err
		}
		self := meetingtypes.SenderIndex(e.Members, s.cfg.Device.UserID, s.cfg.Device.DeviceID)
		switch {
		case self < 0 && was:
			s.cfg.OnEvent(EventRemoved{Epoch: e.Epoch})
			return ErrRemoved
		case self >= 0:
			if err := s.tryEnvelopes(ctx, snap, e, self, nil); err != nil {
				return err
			}
		}
	}
	if leading {
		return nil
	}
	return s.maybeClaim(ctx, snap, m)
}

// tryEnvelopes opens the waiting envelopes for epoch e, in which this
// device is member self; the first that passes every check installs the
// key. Everything but e is read from the proven snapshot snap. e itself
// is proven too, unless early is set: then e was read tentatively from
// early (installEarly), the envelope vouches for it, and nothing is
// reported or dropped when an envelope does not open against it — the
// proven step decides later. On the proven path each failure is reported
// with the sender and the reason, and the session stays on its last good
// key.
func (s *Session) tryEnvelopes(ctx context.Context, snap *verify.Snapshot, e meetingtypes.Epoch, self int, early *verify.Snapshot) error {
	// The roster must be the one its hash commits to, and list this
	// device with this device's own ephemeral key: otherwise the leader
	// sealed the key to someone else's.
	if got := meetingtypes.RosterHash(s.cfg.MeetingID, e.Members); !bytes.Equal(got, e.RosterHash) {
		return fmt.Errorf("epoch %d: roster hash %X does not match its members (%X)", e.Epoch, e.RosterHash, got)
	}
	eph := s.keyFor(e.Members[self].EphPkHash)
	if eph == nil {
		return fmt.Errorf("epoch %d lists %s with an ephemeral key that is not this device's", e.Epoch, s.self())
	}
	s.mu.Lock()
	waiting := s.envs.take(e.Epoch)
	s.mu.Unlock()
	if len(waiting) == 0 {
		return nil
	}
	keep := func(from int) {
		s.mu.Lock()
		for _, w := range waiting[from:] {
			s.envs.add(DeviceRef{User: w.FromUser, Device: w.FromDevice}, e.Epoch, w)
		}
		s.mu.Unlock()
	}
	leader, err := snap.Device(ctx, e.LeaderUser, e.LeaderDevice)
	if err != nil {
		keep(0)
		return fmt.Errorf("leader %s/%s: %w", e.LeaderUser, e.LeaderDevice, err)
	}
	// An early epoch is newer than snap, so any revocation snap shows
	// came before it.
	if leader.RevokedHeight != 0 && (early != nil || leader.RevokedHeight <= e.Height) {
		keep(0)
		return fmt.Errorf("leader %s/%s: device revoked at height %d, before epoch %d (height %d)", e.LeaderUser, e.LeaderDevice, leader.RevokedHeight, e.Epoch, e.Height)
	}
	kctx, err := s.ksContext(e.Epoch, e.RosterHash)
	if err != nil {
		keep(0)
		return err
	}
	want := keyschedule.Expectation{
		Context: kctx, KeyCommitment: e.KeyCommitment, LeaderPubKey: leader.Pubkey,
		LeaderUser: e.LeaderUser, LeaderDevice: e.LeaderDevice,
	}
	for i, d := range waiting {
		var env keyschedule.Envelope
		if err := env.Unmarshal(d.Body); err != nil {
			continue
		}
		mk, err := keyschedule.Open(&env, eph, want)
		if err != nil {
			if early != nil {
				keep(0)
				return nil
			}
			s.cfg.OnEvent(EventProblem{Peer: DeviceRef{User: d.FromUser, Device: d.FromDevice}.String(), Err: err})
			continue
		}
		ep, err := s.epochFrom(ctx, snap, e, self, mk, early != nil)
		if err != nil {
			clear(mk)
			// Keep the envelopes not tried yet and this one: the
			// members' records may read at the next block.
			keep(i)
			return err
		}
		if early != nil {
			s.mu.Lock()
			s.early = &earlyEpoch{tip: early, installedEpoch: installedEpoch{
				number: e.Epoch, leader: ep.Leader, rosterHash: e.RosterHash, commitment: e.KeyCommitment,
			}}
			s.mu.Unlock()
		}
		return s.install(ep, kctx, e.KeyCommitment, e.Members[self].EphPkHash)
	}
	return nil
}

// readNotices checks the leader's notices that arrived since the last
// step; a wrong passcode ends the session (only a new request can fix it).
func (s *Session) readNotices(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting) error {
	s.mu.Lock()
	notices := s.notices
	s.notices = nil
	installed := s.installed
	s.mu.Unlock()
	for _, d := range notices {
		reason, err := s.takeNotice(ctx, snap, m, d)
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: DeviceRef{User: d.FromUser, Device: d.FromDevice}.String(), Err: err})
			continue
		}
		if installed > 0 && reason != meetingtypes.NoticeRemovedEarlier {
			continue // already in: an old notice
		}
		s.cfg.OnEvent(EventRefused{Reason: reason})
		if reason == meetingtypes.NoticeWrongPasscode {
			return ErrWrongPasscode
		}
	}
	return nil
}

// expectLeader makes sure key envelopes from the meeting's leader (as
// the proven record names it) are kept, with its proven device key; the
// members of the installed epoch stay expected too (any may claim).
func (s *Session) expectLeader(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting) error {
	leader := DeviceRef{User: m.LeaderUser, Device: m.LeaderDevice}
	s.mu.Lock()
	_, known := s.senders[leader]
	s.provenLeader = leader
	s.mu.Unlock()
	if known {
		return nil
	}
	mem, err := s.dir.member(ctx, snap, leader, nil)
	if err != nil {
		return fmt.Errorf("leader %s: %w", leader, err)
	}
	s.mu.Lock()
	next := make(map[DeviceRef]ed25519.PublicKey, len(s.senders)+1)
	for k, v := range s.senders {
		next[k] = v
	}
	next[leader] = mem.DevicePub
	s.senders = next
	s.mu.Unlock()
	return nil
}

// epochFrom builds the verified Epoch of the epoch record e and its opened
// key: each member's device key and ephemeral key, proven in snap. For an
// early epoch (newer than snap) each member's request must hold the very
// key the roster lists: snap may be from before a member's newest request.
func (s *Session) epochFrom(ctx context.Context, snap *verify.Snapshot, e meetingtypes.Epoch, self int, mk []byte, early bool) (Epoch, error) {
	refs := make([]DeviceRef, len(e.Members))
	ephs := make([][]byte, len(e.Members))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, m := range e.Members {
		refs[i] = DeviceRef{User: m.UserId, Device: m.DeviceId}
		g.Go(func() error {
			r, err := snap.Request(gctx, s.cfg.MeetingID, m.UserId, m.DeviceId)
			if err != nil {
				return fmt.Errorf("member %s: %w", refs[i], err)
			}
			if early && !bytes.Equal(meetingtypes.EphKeyHash(r.EphPk), m.EphPkHash) {
				return fmt.Errorf("member %s: the proven request at height %d holds another ephemeral key than epoch %d lists", refs[i], snap.Height(), e.Epoch)
			}
			// The request now holds the key the member signals with; it is
			// the roster's unless the member rotated it since the commit.
			ephs[i] = r.EphPk
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Epoch{}, err
	}
	members, err := s.dir.members(ctx, snap, refs, ephs)
	if err != nil {
		return Epoch{}, err
	}
	return Epoch{
		Number: e.Epoch, Key: mk, Reason: e.Reason, Leader: DeviceRef{User: e.LeaderUser, Device: e.LeaderDevice},
		Members: members, Self: self, Height: e.Height,
	}, nil
}

// maybeClaim takes over when a rekey has been due for leader_timeout_blocks
// and this device is first in line (the chain checks both again).
func (s *Session) maybeClaim(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting) error {
	if m.RekeyDueHeight == 0 || m.Epoch == 0 {
		return nil
	}
	params, err := snap.MeetingParams(ctx)
	if err != nil {
		return err
	}
	if snap.Height() < m.RekeyDueHeight+int64(params.LeaderTimeoutBlocks) {
		return nil
	}
	first, err := s.firstInLine(ctx, snap, m)
	if err != nil || first != s.self() {
		return err
	}
	if _, err := Claim(ctx, s.cfg.Chain, s.cfg.Eph, s.cfg.Device, s.cfg.MeetingID); err != nil {
		return fmt.Errorf("claiming leadership: %w", err)
	}
	eph, err := s.cfg.Eph.Load(s.cfg.MeetingID, s.cfg.Device)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.eph, s.ephPrev, s.ephCand, s.keyMade = eph, nil, nil, time.Now()
	s.claimed = true
	s.mu.Unlock()
	s.ownKeysChanged()
	if err := s.subscribe(ctx); err != nil {
		return err
	}
	s.cfg.OnEvent(EventLeader{Claimed: true})
	return nil
}

// firstInLine mirrors the chain's rule: the first member of the current
// roster that is not the leader, is still admitted and has an active device.
func (s *Session) firstInLine(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting) (DeviceRef, error) {
	e, err := snap.Epoch(ctx, s.cfg.MeetingID, m.Epoch)
	if err != nil {
		return DeviceRef{}, err
	}
	for _, mem := range e.Members {
		if mem.UserId == m.LeaderUser && mem.DeviceId == m.LeaderDevice {
			continue
		}
		r, err := snap.Request(ctx, s.cfg.MeetingID, mem.UserId, mem.DeviceId)
		if err != nil && !errors.Is(err, verify.ErrNotFound) {
			return DeviceRef{}, err
		}
		if err != nil || r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED {
			continue
		}
		d, err := snap.Device(ctx, mem.UserId, mem.DeviceId)
		if err != nil || d.RevokedHeight != 0 {
			continue
		}
		return DeviceRef{User: mem.UserId, Device: mem.DeviceId}, nil
	}
	return DeviceRef{}, errors.New("no member is in line to take over")
}
