package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// TransferLeadership hands leadership to a member of the current epoch.
func (s msgServer) TransferLeadership(ctx context.Context, msg *types.MsgTransferLeadership) (*types.MsgTransferLeadershipResponse, error) {
	k := s.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return nil, err
	}
	if err := validateDeviceRef(msg.NewLeaderUser, msg.NewLeaderDevice); err != nil {
		return nil, err
	}
	sb := types.TransferSignBytes(sdkCtx.ChainID(), msg.MeetingId, m.Epoch, m.LeaderChanges, msg.NewLeaderUser, msg.NewLeaderDevice)
	if err := k.verifyDevice(ctx, m.LeaderUser, m.LeaderDevice, sb, msg.Sig); err != nil {
		return nil, types.ErrNotLeader.Wrapf("transfer must be signed by the leader %s/%s: %v", m.LeaderUser, m.LeaderDevice, err)
	}
	if sameDevice(msg.NewLeaderUser, msg.NewLeaderDevice, m.LeaderUser, m.LeaderDevice) {
		return nil, types.ErrInvalidRoster.Wrap("new leader is already the leader")
	}
	r, err := k.rosterMember(ctx, m, msg.NewLeaderUser, msg.NewLeaderDevice)
	if err != nil {
		return nil, err
	}
	if _, err := k.identity.ActiveDevice(ctx, msg.NewLeaderUser, msg.NewLeaderDevice); err != nil {
		return nil, err
	}
	if err := k.LeaderIndex.Remove(ctx, collections.Join(m.LeaderUser, m.MeetingId)); err != nil {
		return nil, err
	}
	m.LeaderUser, m.LeaderDevice, m.LeaderEphPk = msg.NewLeaderUser, msg.NewLeaderDevice, r.EphPk
	m.LeaderChanges++
	if err := k.LeaderIndex.Set(ctx, collections.Join(m.LeaderUser, m.MeetingId)); err != nil {
		return nil, err
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return nil, err
	}
	return &types.MsgTransferLeadershipResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventLeaderChanged{
		MeetingId: m.MeetingId, LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice,
	})
}

// ClaimLeadership replaces a leader that left a due rekey undone for
// leader_timeout_blocks. Only the first remaining member in roster order
// may claim, so members never race each other for it.
func (s msgServer) ClaimLeadership(ctx context.Context, msg *types.MsgClaimLeadership) (*types.MsgClaimLeadershipResponse, error) {
	k := s.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return nil, err
	}
	if err := validateDeviceRef(msg.UserId, msg.DeviceId); err != nil {
		return nil, err
	}
	if err := types.ValidateEphKey("eph_pk", msg.EphPk); err != nil {
		return nil, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	height := sdkCtx.BlockHeight()
	if m.RekeyDueHeight == 0 {
		return nil, types.ErrClaimTooEarly.Wrap("no rekey is due")
	}
	if deadline := m.RekeyDueHeight + int64(params.LeaderTimeoutBlocks); height < deadline {
		return nil, types.ErrClaimTooEarly.Wrapf("rekey due since height %d; the leader has until height %d (now %d)", m.RekeyDueHeight, deadline, height)
	}
	first, err := k.firstInLine(ctx, m)
	if err != nil {
		return nil, err
	}
	if !sameDevice(first.UserId, first.DeviceId, msg.UserId, msg.DeviceId) {
		return nil, types.ErrNotFirstInLine.Wrapf("%s/%s may claim, not %s/%s", first.UserId, first.DeviceId, msg.UserId, msg.DeviceId)
	}
	sb := types.ClaimSignBytes(sdkCtx.ChainID(), msg.MeetingId, m.Epoch, m.LeaderChanges, msg.UserId, msg.DeviceId, msg.EphPk)
	if err := k.verifyDevice(ctx, msg.UserId, msg.DeviceId, sb, msg.Sig); err != nil {
		return nil, err
	}
	if err := k.useEphKey(ctx, msg.MeetingId, msg.EphPk); err != nil {
		return nil, err
	}
	r, err := k.Requests.Get(ctx, types.JoinRequestKey(m.MeetingId, msg.Ref()))
	if err != nil {
		return nil, err
	}
	r.EphPk = msg.EphPk
	if err := k.Requests.Set(ctx, types.JoinRequestKey(m.MeetingId, msg.Ref()), r); err != nil {
		return nil, err
	}
	if err := k.LeaderIndex.Remove(ctx, collections.Join(m.LeaderUser, m.MeetingId)); err != nil {
		return nil, err
	}
	m.LeaderUser, m.LeaderDevice, m.LeaderEphPk = msg.UserId, msg.DeviceId, msg.EphPk
	m.LeaderChanges++
	// The new leader gets a full timeout of its own for the due rekey.
	m.RekeyDueHeight = height
	if err := k.LeaderIndex.Set(ctx, collections.Join(m.LeaderUser, m.MeetingId)); err != nil {
		return nil, err
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return nil, err
	}
	return &types.MsgClaimLeadershipResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventLeaderChanged{
		MeetingId: m.MeetingId, LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice, Claimed: true,
	})
}

// EndMeeting ends a meeting; only the leader may.
func (s msgServer) EndMeeting(ctx context.Context, msg *types.MsgEndMeeting) (*types.MsgEndMeetingResponse, error) {
	k := s.k
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return nil, err
	}
	sb := types.EndSignBytes(sdk.UnwrapSDKContext(ctx).ChainID(), msg.MeetingId, m.Epoch)
	if err := k.verifyDevice(ctx, m.LeaderUser, m.LeaderDevice, sb, msg.Sig); err != nil {
		return nil, types.ErrNotLeader.Wrapf("end must be signed by the leader %s/%s: %v", m.LeaderUser, m.LeaderDevice, err)
	}
	return &types.MsgEndMeetingResponse{}, k.endMeeting(ctx, m, "leader")
}

// rosterMember returns the admitted request of a member of the current epoch.
func (k *Keeper) rosterMember(ctx context.Context, m types.Meeting, userID, deviceID string) (types.JoinRequest, error) {
	e, ok, err := k.currentEpoch(ctx, m)
	if err != nil {
		return types.JoinRequest{}, err
	}
	if ok && types.SenderIndex(e.Members, userID, deviceID) >= 0 {
		r, err := k.Requests.Get(ctx, types.JoinRequestKey(m.MeetingId, identitytypes.DeviceRef{User: userID, Device: deviceID}))
		if err == nil && r.Status == types.RequestStatus_REQUEST_STATUS_ADMITTED {
			return r, nil
		}
	}
	return types.JoinRequest{}, types.ErrNotMember.Wrapf("%s/%s is not in epoch %d of meeting %x", userID, deviceID, m.Epoch, m.MeetingId)
}

// firstInLine is the first member of the current roster, in roster order,
// that is not the leader, is still admitted and whose device is active.
func (k *Keeper) firstInLine(ctx context.Context, m types.Meeting) (types.Member, error) {
	e, ok, err := k.currentEpoch(ctx, m)
	if err != nil {
		return types.Member{}, err
	}
	if ok {
		for _, mem := range e.Members {
			if sameDevice(mem.UserId, mem.DeviceId, m.LeaderUser, m.LeaderDevice) {
				continue
			}
			r, err := k.Requests.Get(ctx, types.JoinRequestKey(m.MeetingId, mem.Ref()))
			if err != nil || r.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED {
				continue
			}
			if _, err := k.identity.ActiveDevice(ctx, mem.UserId, mem.DeviceId); err != nil {
				continue
			}
			return mem, nil
		}
	}
	return types.Member{}, types.ErrNotFirstInLine.Wrapf("meeting %x has no remaining member to take over", m.MeetingId)
}

// endMeeting closes a meeting: pending requests expire, indexes drop it,
// and it is queued for pruning after the retention period.
func (k *Keeper) endMeeting(ctx context.Context, m types.Meeting, cause string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if _, _, err := k.expirePending(ctx, m.MeetingId, -1); err != nil {
		return err
	}
	if e, ok, err := k.currentEpoch(ctx, m); err != nil {
		return err
	} else if ok {
		for _, mem := range e.Members {
			if err := k.MemberIndex.Remove(ctx, collections.Join(mem.UserId, m.MeetingId)); err != nil {
				return err
			}
		}
	}
	m.Status, m.EndedHeight = types.Status_STATUS_ENDED, sdkCtx.BlockHeight()
	for _, err := range []error{
		k.LeaderIndex.Remove(ctx, collections.Join(m.LeaderUser, m.MeetingId)),
		k.ExpiryQueue.Remove(ctx, collections.Join(m.ExpiresAt, m.MeetingId)),
		k.queuePrune(ctx, m, params.RetentionBlocks),
		k.Meetings.Set(ctx, m.MeetingId, m),
	} {
		if err != nil {
			return err
		}
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventMeetingEnded{MeetingId: m.MeetingId, Cause: cause})
}

// expirePending expires up to limit (all if < 0) pending requests of a
// meeting; more reports whether some are left.
func (k *Keeper) expirePending(ctx context.Context, id []byte, limit int) (n int, more bool, err error) {
	var pending []types.JoinRequest
	err = k.Requests.Walk(ctx, collections.NewPrefixedPairRange[[]byte, string](id),
		func(_ RequestKey, r types.JoinRequest) (bool, error) {
			if r.Status != types.RequestStatus_REQUEST_STATUS_PENDING {
				return false, nil
			}
			if limit >= 0 && len(pending) == limit {
				more = true
				return true, nil
			}
			pending = append(pending, r)
			return false, nil
		})
	if err != nil {
		return 0, false, err
	}
	for i := range pending {
		if err := k.setRequestStatus(ctx, &pending[i], types.RequestStatus_REQUEST_STATUS_EXPIRED); err != nil {
			return i, true, err
		}
	}
	return len(pending), more, nil
}
