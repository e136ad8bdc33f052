package meeting

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleynet/parley/client/keyschedule"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// memberStep installs the current epoch's key once its envelope arrives and
// checks out, and claims leadership when the leader timed out and this
// device is first in line.
func (s *Session) memberStep(ctx context.Context, m meetingtypes.Meeting, height int64) error {
	q := s.cfg.Chain.Meeting()
	if m.Epoch > 0 {
		s.mu.Lock()
		installed := s.installed
		s.mu.Unlock()
		if m.Epoch > installed {
			er, err := q.Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: s.cfg.MeetingID, Epoch: m.Epoch})
			if err != nil {
				return err
			}
			e := er.Epoch
			if meetingtypes.SenderIndex(e.Members, s.cfg.Device.UserID, s.cfg.Device.DeviceID) < 0 {
				s.mu.Lock()
				was := s.wasMember
				s.mu.Unlock()
				if was {
					s.keys.EraseAll()
					s.cfg.OnEvent(EventRemoved{Epoch: e.Epoch})
					return ErrRemoved
				}
			} else if err := s.tryEnvelopes(ctx, e); err != nil {
				return err
			}
		}
	}
	return s.maybeClaim(ctx, m, height)
}

// tryEnvelopes opens the waiting envelopes for epoch e; the first that
// passes every check installs the key. Each failure is reported with the
// sender and the reason, and the session stays on its last good key.
func (s *Session) tryEnvelopes(ctx context.Context, e meetingtypes.Epoch) error {
	s.mu.Lock()
	waiting := s.pending[e.Epoch]
	s.pending[e.Epoch] = nil
	s.mu.Unlock()
	if len(waiting) == 0 {
		return nil
	}
	leader, err := s.cfg.Chain.Identity().Device(ctx, &identitytypes.QueryDeviceRequest{UserId: e.LeaderUser, DeviceId: e.LeaderDevice})
	if err != nil {
		return fmt.Errorf("leader %s/%s: %w", e.LeaderUser, e.LeaderDevice, err)
	}
	want := keyschedule.Expectation{
		ChainID: s.cfg.Chain.ChainID(), MeetingID: s.cfg.MeetingID, Epoch: e.Epoch, RosterHash: e.RosterHash,
		KeyCommitment: e.KeyCommitment, LeaderPubKey: leader.Device.Pubkey,
		LeaderUser: e.LeaderUser, LeaderDevice: e.LeaderDevice,
	}
	for _, d := range waiting {
		var env keyschedule.Envelope
		if err := env.Unmarshal(d.Body); err != nil {
			continue
		}
		mk, err := keyschedule.Open(&env, s.eph, want)
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: d.FromUser + "/" + d.FromDevice, Err: err})
			continue
		}
		return s.install(e.Epoch, mk, e.RosterHash, e.KeyCommitment, e.Members)
	}
	return nil
}

// maybeClaim takes over when a rekey has been due for leader_timeout_blocks
// and this device is first in line (the chain checks both again).
func (s *Session) maybeClaim(ctx context.Context, m meetingtypes.Meeting, height int64) error {
	if m.RekeyDueHeight == 0 || m.Epoch == 0 {
		return nil
	}
	params, err := s.cfg.Chain.Meeting().Params(ctx, &meetingtypes.QueryParamsRequest{})
	if err != nil {
		return err
	}
	if height < m.RekeyDueHeight+int64(params.Params.LeaderTimeoutBlocks) {
		return nil
	}
	first, err := s.firstInLine(ctx, m)
	if err != nil || first != s.cfg.Device.UserID+"/"+s.cfg.Device.DeviceID {
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
	s.eph = eph
	s.mu.Unlock()
	if err := s.subscribe(ctx); err != nil {
		return err
	}
	s.cfg.OnEvent(EventLeader{Claimed: true})
	return nil
}

// firstInLine mirrors the chain's rule: the first member of the current
// roster that is not the leader, is still admitted and has an active device.
func (s *Session) firstInLine(ctx context.Context, m meetingtypes.Meeting) (string, error) {
	er, err := s.cfg.Chain.Meeting().Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: s.cfg.MeetingID, Epoch: m.Epoch})
	if err != nil {
		return "", err
	}
	reqs, err := s.requests(ctx)
	if err != nil {
		return "", err
	}
	for _, mem := range er.Epoch.Members {
		id := mem.UserId + "/" + mem.DeviceId
		if mem.UserId == m.LeaderUser && mem.DeviceId == m.LeaderDevice {
			continue
		}
		if r, ok := reqs[id]; !ok || r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED {
			continue
		}
		d, err := s.cfg.Chain.Identity().Device(ctx, &identitytypes.QueryDeviceRequest{UserId: mem.UserId, DeviceId: mem.DeviceId})
		if err != nil || d.Device.RevokedHeight != 0 {
			continue
		}
		return id, nil
	}
	return "", errors.New("no member is in line to take over")
}

// requests returns every request of the meeting by "user/device".
func (s *Session) requests(ctx context.Context) (map[string]meetingtypes.JoinRequest, error) {
	out := map[string]meetingtypes.JoinRequest{}
	var next []byte
	for {
		res, err := s.cfg.Chain.Meeting().JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{
			MeetingId: s.cfg.MeetingID, Pagination: pageAfter(next),
		})
		if err != nil {
			return nil, err
		}
		for _, r := range res.Requests {
			out[r.UserId+"/"+r.DeviceId] = r
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		next = res.Pagination.NextKey
	}
}
