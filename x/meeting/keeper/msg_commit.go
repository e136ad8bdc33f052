package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// CommitEpoch is the leader's next roster: it admits, removes and rotates.
func (s msgServer) CommitEpoch(ctx context.Context, msg *types.MsgCommitEpoch) (*types.MsgCommitEpochResponse, error) {
	k := s.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return nil, err
	}
	if msg.Epoch != m.Epoch+1 {
		return nil, types.ErrWrongEpoch.Wrapf("epoch: want %d, got %d", m.Epoch+1, msg.Epoch)
	}
	if _, ok := types.Reason_name[int32(msg.Reason)]; !ok || msg.Reason == types.Reason_REASON_UNSPECIFIED {
		return nil, types.ErrInvalidReason.Wrapf("reason %d", msg.Reason)
	}
	if len(msg.KeyCommitment) != types.KeyCommitmentSize {
		return nil, types.ErrInvalidCommitment.Wrapf("key_commitment: want %d bytes, got %d", types.KeyCommitmentSize, len(msg.KeyCommitment))
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	limit := params.MaxParticipants
	if m.Policy.MaxParticipants != 0 && m.Policy.MaxParticipants < limit {
		limit = m.Policy.MaxParticipants
	}
	if len(msg.Members) == 0 {
		return nil, types.ErrInvalidRoster.Wrap("members: empty")
	}
	if len(msg.Members) > int(limit) {
		return nil, types.ErrRosterTooLarge.Wrapf("members: %d, the limit is %d", len(msg.Members), limit)
	}
	sb := types.CommitSignBytes(sdkCtx.ChainID(), msg.MeetingId, msg.Epoch, msg.Members, msg.KeyCommitment, msg.Reason)
	if err := k.verifyDevice(ctx, m.LeaderUser, m.LeaderDevice, sb, msg.Sig); err != nil {
		return nil, types.ErrNotLeader.Wrapf("commit must be signed by the leader %s/%s: %v", m.LeaderUser, m.LeaderDevice, err)
	}

	// Every member needs an open request from a device that is still active.
	members := make([]types.Member, 0, len(msg.Members))
	requests := make([]types.JoinRequest, 0, len(msg.Members))
	seen := make(map[string]bool, len(msg.Members))
	hasLeader := false
	for i, ref := range msg.Members {
		id := ref.UserId + "/" + ref.DeviceId
		if seen[id] {
			return nil, types.ErrInvalidRoster.Wrapf("members[%d]: %s listed twice", i, id)
		}
		seen[id] = true
		r, err := k.Requests.Get(ctx, reqKey(msg.MeetingId, ref.UserId, ref.DeviceId))
		if err != nil || (r.Status != types.RequestStatus_REQUEST_STATUS_PENDING && r.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED) {
			status := "none"
			if err == nil {
				status = r.Status.String()
			}
			return nil, types.ErrNoRequest.Wrapf("members[%d]: %s has no pending or admitted request (request: %s)", i, id, status)
		}
		if _, err := k.identity.ActiveDevice(ctx, ref.UserId, ref.DeviceId); err != nil {
			return nil, types.ErrNoRequest.Wrapf("members[%d]: %s: %v", i, id, err)
		}
		if sameDevice(ref.UserId, ref.DeviceId, m.LeaderUser, m.LeaderDevice) {
			hasLeader = true
		}
		members = append(members, types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId, EphPkHash: types.EphKeyHash(r.EphPk)})
		requests = append(requests, r)
	}
	if !hasLeader {
		return nil, types.ErrInvalidRoster.Wrapf("members: must include the leader %s/%s", m.LeaderUser, m.LeaderDevice)
	}
	types.SortMembers(members)
	rosterHash := types.RosterHash(msg.MeetingId, members)

	// Members of the previous epoch left out are removed.
	prev, hasPrev, err := k.currentEpoch(ctx, m)
	if err != nil {
		return nil, err
	}
	// The member index is per user: touch only users who come or go (in
	// slice order, so writes are deterministic).
	newUsers := make(map[string]bool, len(requests))
	for _, r := range requests {
		newUsers[r.UserId] = true
	}
	oldUsers := make(map[string]bool)
	if hasPrev {
		for _, old := range prev.Members {
			if !oldUsers[old.UserId] && !newUsers[old.UserId] {
				if err := k.MemberIndex.Remove(ctx, collections.Join(old.UserId, m.MeetingId)); err != nil {
					return nil, err
				}
			}
			oldUsers[old.UserId] = true
			if seen[old.UserId+"/"+old.DeviceId] {
				continue
			}
			r, err := k.Requests.Get(ctx, reqKey(m.MeetingId, old.UserId, old.DeviceId))
			if err != nil {
				return nil, err
			}
			if r.Status == types.RequestStatus_REQUEST_STATUS_ADMITTED {
				if err := k.setRequestStatus(ctx, &r, types.RequestStatus_REQUEST_STATUS_REMOVED); err != nil {
					return nil, err
				}
			}
			if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventMemberRemoved{
				MeetingId: m.MeetingId, Epoch: msg.Epoch, UserId: old.UserId, DeviceId: old.DeviceId,
			}); err != nil {
				return nil, err
			}
		}
	}
	for i := range requests {
		r := &requests[i]
		if r.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED {
			if err := k.setRequestStatus(ctx, r, types.RequestStatus_REQUEST_STATUS_ADMITTED); err != nil {
				return nil, err
			}
		}
		if !oldUsers[r.UserId] {
			if err := k.MemberIndex.Set(ctx, collections.Join(r.UserId, m.MeetingId)); err != nil {
				return nil, err
			}
			oldUsers[r.UserId] = true // set once per user
		}
	}

	e := types.Epoch{
		MeetingId: m.MeetingId, Epoch: msg.Epoch, Members: members, RosterHash: rosterHash,
		KeyCommitment: msg.KeyCommitment, Reason: msg.Reason, Height: sdkCtx.BlockHeight(),
		LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice,
	}
	if err := k.Epochs.Set(ctx, collections.Join(m.MeetingId, e.Epoch), e); err != nil {
		return nil, err
	}
	m.Epoch, m.RosterHash, m.KeyCommitment, m.RekeyDueHeight = e.Epoch, rosterHash, msg.KeyCommitment, 0
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return nil, err
	}
	return &types.MsgCommitEpochResponse{RosterHash: rosterHash}, sdkCtx.EventManager().EmitTypedEvent(&types.EventEpochCommitted{
		MeetingId: m.MeetingId, Epoch: e.Epoch, Members: toPtrs(members), RosterHash: rosterHash,
		KeyCommitment: msg.KeyCommitment, Reason: msg.Reason, LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice,
	})
}

func toPtrs(ms []types.Member) []*types.Member {
	out := make([]*types.Member, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	return out
}
