package keeper

import (
	"bytes"
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// CommitEpoch is the leader's next roster: it admits, removes and rotates.
// Nothing is written before every check passed, the roster hash included.
func (s msgServer) CommitEpoch(ctx context.Context, msg *types.MsgCommitEpoch) (*types.MsgCommitEpochResponse, error) {
	m, err := s.k.validateCommit(ctx, msg)
	if err != nil {
		return nil, err
	}
	r, err := s.k.buildRoster(ctx, m, msg)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(msg.RosterHash, r.hash) {
		return nil, types.ErrRosterHashMismatch.Wrapf("roster_hash: the chain computes %x from its join requests, the message has %x; re-read the requests and commit again", r.hash, msg.RosterHash)
	}
	if err := s.k.applyCommit(ctx, m, msg, r); err != nil {
		return nil, err
	}
	return &types.MsgCommitEpochResponse{RosterHash: r.hash, Epoch: msg.Epoch}, nil
}

// validateCommit checks everything about a commit but its members: the
// meeting, the epoch, reason, commitment and size, and the leader's
// signature. It returns the meeting.
func (k *Keeper) validateCommit(ctx context.Context, msg *types.MsgCommitEpoch) (types.Meeting, error) {
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return m, err
	}
	if msg.Epoch != m.Epoch+1 {
		return m, types.ErrWrongEpoch.Wrapf("epoch: want %d, got %d", m.Epoch+1, msg.Epoch)
	}
	if _, ok := types.Reason_name[int32(msg.Reason)]; !ok || msg.Reason == types.Reason_REASON_UNSPECIFIED {
		return m, types.ErrInvalidReason.Wrapf("reason %d", msg.Reason)
	}
	if len(msg.KeyCommitment) != types.KeyCommitmentSize {
		return m, types.ErrInvalidCommitment.Wrapf("key_commitment: want %d bytes, got %d", types.KeyCommitmentSize, len(msg.KeyCommitment))
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return m, err
	}
	limit := params.MaxParticipants
	if m.Policy.MaxParticipants != 0 && m.Policy.MaxParticipants < limit {
		limit = m.Policy.MaxParticipants
	}
	if len(msg.Members) == 0 {
		return m, types.ErrInvalidRoster.Wrap("members: empty")
	}
	if len(msg.Members) > int(limit) {
		return m, types.ErrRosterTooLarge.Wrapf("members: %d, the limit is %d", len(msg.Members), limit)
	}
	if err := checkStarted(m, msg.Members, sdk.UnwrapSDKContext(ctx).BlockTime().Unix()); err != nil {
		return m, err
	}
	sb := types.CommitSignBytes(sdk.UnwrapSDKContext(ctx).ChainID(), msg.MeetingId, msg.Epoch, msg.Members, msg.RosterHash, msg.KeyCommitment, msg.Reason)
	if err := k.verifyDevice(ctx, m.LeaderUser, m.LeaderDevice, sb, msg.Sig); err != nil {
		return m, types.ErrNotLeader.Wrapf("commit must be signed by the leader %s/%s: %v", m.LeaderUser, m.LeaderDevice, err)
	}
	return m, nil
}

// roster is a commit's next roster as the chain sees it.
type roster struct {
	// members in canonical order, with the hashes of their requests' keys.
	members []types.Member
	// requests of the members, in message order.
	requests []types.JoinRequest
	// listed holds every member.
	listed map[identitytypes.DeviceRef]bool
	// hash is RosterHash over members.
	hash []byte
}

// buildRoster reads every member's request: each needs a pending or
// admitted request from a device that is still active, and the leader must
// be one of them. The roster hash is computed from the chain's own
// requests, never taken from the message.
func (k *Keeper) buildRoster(ctx context.Context, m types.Meeting, msg *types.MsgCommitEpoch) (roster, error) {
	r := roster{
		members:  make([]types.Member, 0, len(msg.Members)),
		requests: make([]types.JoinRequest, 0, len(msg.Members)),
		listed:   make(map[identitytypes.DeviceRef]bool, len(msg.Members)),
	}
	hasLeader := false
	for i, ref := range msg.Members {
		id := ref.Ref()
		if r.listed[id] {
			return r, types.ErrInvalidRoster.Wrapf("members[%d]: %s listed twice", i, id)
		}
		r.listed[id] = true
		req, err := k.Requests.Get(ctx, types.JoinRequestKey(msg.MeetingId, ref.Ref()))
		if err != nil || !req.Status.IsOpen() {
			status := "none"
			if err == nil {
				status = req.Status.String()
			}
			return r, types.ErrNoRequest.Wrapf("members[%d]: %s has no pending or admitted request (request: %s)", i, id, status)
		}
		if _, err := k.identity.ActiveDevice(ctx, ref.UserId, ref.DeviceId); err != nil {
			return r, types.ErrNoRequest.Wrapf("members[%d]: %s: %v", i, id, err)
		}
		if sameDevice(ref.UserId, ref.DeviceId, m.LeaderUser, m.LeaderDevice) {
			hasLeader = true
		}
		r.members = append(r.members, types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId, EphPkHash: types.EphKeyHash(req.EphPk)})
		r.requests = append(r.requests, req)
	}
	if !hasLeader {
		return r, types.ErrInvalidRoster.Wrapf("members: must include the leader %s/%s", m.LeaderUser, m.LeaderDevice)
	}
	types.SortMembers(r.members)
	r.hash = types.RosterHash(msg.MeetingId, r.members)
	return r, nil
}

// applyCommit writes the epoch: members of the previous epoch left out are
// removed, new ones admitted, the member index follows, and the meeting
// moves to the new epoch with no rekey due.
func (k *Keeper) applyCommit(ctx context.Context, m types.Meeting, msg *types.MsgCommitEpoch, r roster) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	prev, hasPrev, err := k.currentEpoch(ctx, m)
	if err != nil {
		return err
	}
	// The member index is per user: touch only users who come or go (in
	// slice order, so writes are deterministic).
	newUsers := make(map[string]bool, len(r.requests))
	for _, req := range r.requests {
		newUsers[req.UserId] = true
	}
	oldUsers := make(map[string]bool)
	if hasPrev {
		for _, old := range prev.Members {
			if !oldUsers[old.UserId] && !newUsers[old.UserId] {
				if err := k.MemberIndex.Remove(ctx, collections.Join(old.UserId, m.MeetingId)); err != nil {
					return err
				}
			}
			oldUsers[old.UserId] = true
			if r.listed[old.Ref()] {
				continue
			}
			req, err := k.Requests.Get(ctx, types.JoinRequestKey(m.MeetingId, old.Ref()))
			if err != nil {
				return err
			}
			if req.Status == types.RequestStatus_REQUEST_STATUS_ADMITTED {
				if err := k.setRequestStatus(ctx, &req, types.RequestStatus_REQUEST_STATUS_REMOVED); err != nil {
					return err
				}
			}
			if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventMemberRemoved{
				MeetingId: m.MeetingId, Epoch: msg.Epoch, UserId: old.UserId, DeviceId: old.DeviceId,
			}); err != nil {
				return err
			}
		}
	}
	for i := range r.requests {
		req := &r.requests[i]
		if req.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED {
			if err := k.setRequestStatus(ctx, req, types.RequestStatus_REQUEST_STATUS_ADMITTED); err != nil {
				return err
			}
		}
		if !oldUsers[req.UserId] {
			if err := k.MemberIndex.Set(ctx, collections.Join(req.UserId, m.MeetingId)); err != nil {
				return err
			}
			oldUsers[req.UserId] = true // set once per user
		}
	}

	e := types.Epoch{
		MeetingId: m.MeetingId, Epoch: msg.Epoch, Members: r.members, RosterHash: r.hash,
		KeyCommitment: msg.KeyCommitment, Reason: msg.Reason, Height: sdkCtx.BlockHeight(),
		LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice,
	}
	if err := k.Epochs.Set(ctx, collections.Join(m.MeetingId, e.Epoch), e); err != nil {
		return err
	}
	m.Epoch, m.RosterHash, m.KeyCommitment, m.RekeyDueHeight = e.Epoch, r.hash, msg.KeyCommitment, 0
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return err
	}
	if len(r.members) > 1 {
		if err := k.markHeld(ctx, m); err != nil {
			return err
		}
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventEpochCommitted{
		MeetingId: m.MeetingId, Epoch: e.Epoch, Members: toPtrs(r.members), RosterHash: r.hash,
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
