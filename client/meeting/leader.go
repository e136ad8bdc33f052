package meeting

import (
	"context"
	"crypto/hpke"
	"sort"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/parleynet/parley/client/keyschedule"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func pageAfter(key []byte) *query.PageRequest {
	return &query.PageRequest{Key: key, Limit: 1000}
}

// leaderStep commits a new epoch when one is needed — the first epoch, a
// request to admit, a removal, a due rekey (someone left or a device was
// revoked) or the periodic rotation — and sends each member its envelope.
func (s *Session) leaderStep(ctx context.Context, m meetingtypes.Meeting) error {
	reqs, err := s.requests(ctx)
	if err != nil {
		return err
	}
	self := s.cfg.Device.UserID + "/" + s.cfg.Device.DeviceID
	if s.cfg.Control != nil {
		for _, r := range s.cfg.Control.Removals() {
			s.Remove(r[0], r[1])
		}
	}
	s.mu.Lock()
	removals := make(map[string]bool, len(s.removals))
	for k := range s.removals {
		removals[k] = true
	}
	rotate := s.rotate || (m.Epoch > 0 && time.Since(s.lastKey) >= s.cfg.RotateEvery)
	installed := s.installed
	s.mu.Unlock()

	var current []meetingtypes.Member
	if m.Epoch > 0 {
		er, err := s.cfg.Chain.Meeting().Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: s.cfg.MeetingID, Epoch: m.Epoch})
		if err != nil {
			return err
		}
		current = er.Epoch.Members
	}
	inRoster := map[string]bool{}
	for _, mem := range current {
		inRoster[mem.UserId+"/"+mem.DeviceId] = true
	}

	reason := meetingtypes.Reason_REASON_ROTATE
	switch {
	case m.Epoch == 0:
		reason = meetingtypes.Reason_REASON_JOIN
	case m.RekeyDueHeight != 0:
		reason = meetingtypes.Reason_REASON_LEAVE
	case m.Epoch > installed:
		// Leadership came to this device (transfer or claim): rekey so
		// that no key of the previous leader's stays in use.
		reason = meetingtypes.Reason_REASON_LEADER
	}
	members := map[string]meetingtypes.JoinRequest{}
	for id := range inRoster {
		r, ok := reqs[id]
		if !ok || r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED {
			continue
		}
		if removals[id] && id != self {
			reason = meetingtypes.Reason_REASON_REMOVE
			continue
		}
		if !s.deviceActive(ctx, r.UserId, r.DeviceId) {
			reason = meetingtypes.Reason_REASON_REVOKE
			continue
		}
		members[id] = r
	}
	admitted := false
	for id, r := range reqs {
		if r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_PENDING || removals[id] {
			continue
		}
		if s.cfg.Admit != nil && !s.cfg.Admit(r) {
			continue
		}
		if s.cfg.Passcode != "" {
			s.mu.Lock()
			eph := s.eph
			s.mu.Unlock()
			if err := CheckPasscode(s.cfg.Chain.ChainID(), s.cfg.MeetingID, r.UserId, r.DeviceId, s.cfg.Passcode, eph, r.Sealed); err != nil {
				if !s.rejected[id] {
					s.rejected[id] = true
					s.cfg.OnEvent(EventProblem{Peer: id, Err: err})
				}
				continue
			}
		}
		if !s.deviceActive(ctx, r.UserId, r.DeviceId) {
			continue
		}
		members[id] = r
		admitted = true
	}
	members[self] = reqs[self]
	if admitted && m.Epoch > 0 && reason == meetingtypes.Reason_REASON_ROTATE {
		reason = meetingtypes.Reason_REASON_JOIN
	}
	changed := len(members) != len(inRoster)
	for id := range members {
		if !inRoster[id] {
			changed = true
		}
	}
	if !changed && !rotate && m.RekeyDueHeight == 0 && m.Epoch <= installed && m.Epoch > 0 {
		return nil
	}
	return s.commit(ctx, m, members, reason)
}

func (s *Session) deviceActive(ctx context.Context, user, device string) bool {
	d, err := s.cfg.Chain.Identity().Device(ctx, &identitytypes.QueryDeviceRequest{UserId: user, DeviceId: device})
	return err == nil && d.Device.RevokedHeight == 0
}

// commit draws a new meeting key, commits the epoch and seals the key to
// every other member.
func (s *Session) commit(ctx context.Context, m meetingtypes.Meeting, reqs map[string]meetingtypes.JoinRequest, reason meetingtypes.Reason) error {
	epoch := m.Epoch + 1
	ids := make([]string, 0, len(reqs))
	for id := range reqs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	refs := make([]meetingtypes.MemberRef, 0, len(ids))
	members := make([]meetingtypes.Member, 0, len(ids))
	for _, id := range ids {
		r := reqs[id]
		refs = append(refs, meetingtypes.MemberRef{UserId: r.UserId, DeviceId: r.DeviceId})
		members = append(members, meetingtypes.Member{UserId: r.UserId, DeviceId: r.DeviceId, EphPkHash: meetingtypes.EphKeyHash(r.EphPk)})
	}
	meetingtypes.SortMembers(members)
	rosterHash := meetingtypes.RosterHash(s.cfg.MeetingID, members)
	mk := keyschedule.NewMeetingKey()
	kctx := s.ksContext(epoch, rosterHash)
	commitment, err := keyschedule.Commit(mk, kctx)
	if err != nil {
		return err
	}
	if _, _, err := Commit(ctx, s.cfg.Chain, s.cfg.Device, s.cfg.MeetingID, refs, rosterHash, commitment, reason); err != nil {
		return err
	}
	var recipients []keyschedule.Recipient
	for _, id := range ids {
		r := reqs[id]
		if r.UserId == s.cfg.Device.UserID && r.DeviceId == s.cfg.Device.DeviceID {
			continue
		}
		recipients = append(recipients, keyschedule.Recipient{UserID: r.UserId, DeviceID: r.DeviceId, PublicKey: r.EphPk, Parsed: s.parsedKey(r.EphPk)})
	}
	leader := keyschedule.Leader{UserID: s.cfg.Device.UserID, DeviceID: s.cfg.Device.DeviceID, Signer: cryptoSigner{s.cfg.Device.Key}}
	envs, err := keyschedule.SealAll(ctx, leader, kctx, mk, recipients)
	if err != nil {
		return err
	}
	for i, env := range envs {
		body, err := env.Marshal()
		if err != nil {
			return err
		}
		to := keyschedule.EphemeralKeyHash(recipients[i].PublicKey)
		if err := s.cfg.Mailbox.Post(ctx, to, s.cfg.MeetingID, KindMeetingKey, body); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: recipients[i].UserID + "/" + recipients[i].DeviceID, Err: err})
		}
	}
	s.mu.Lock()
	s.rotate = false
	for id := range s.removals {
		if _, still := reqs[id]; !still {
			delete(s.removals, id)
		}
	}
	s.mu.Unlock()
	return s.install(epoch, mk, rosterHash, commitment, members)
}

// parsedKey returns a member's ephemeral key parsed once per meeting (nil
// if it does not parse; SealAll then reports the member's error).
func (s *Session) parsedKey(pub []byte) hpke.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parsed == nil {
		s.parsed = map[string]hpke.PublicKey{}
	}
	if pk, ok := s.parsed[string(pub)]; ok {
		return pk
	}
	pk, err := keyschedule.ParseEphemeralPublicKey(pub)
	if err != nil {
		return nil
	}
	s.parsed[string(pub)] = pk
	return pk
}
