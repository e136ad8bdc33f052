package keeper

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

type msgServer struct{ k *Keeper }

// NewMsgServerImpl returns the module's Msg service.
func NewMsgServerImpl(k *Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

// CreateMeeting opens a meeting led by the signing device.
func (s msgServer) CreateMeeting(ctx context.Context, msg *types.MsgCreateMeeting) (*types.MsgCreateMeetingResponse, error) {
	k := s.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if len(msg.MeetingId) != types.MeetingIDSize {
		return nil, types.ErrInvalidMeetingID.Wrapf("meeting_id: want %d bytes, got %d", types.MeetingIDSize, len(msg.MeetingId))
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
	if err := validatePolicy(msg.Policy, params); err != nil {
		return nil, err
	}
	if msg.DurationSeconds == 0 || msg.DurationSeconds > params.MaxDurationSeconds {
		return nil, types.ErrInvalidDuration.Wrapf("duration_seconds: want 1..%d, got %d", params.MaxDurationSeconds, msg.DurationSeconds)
	}
	if err := validateStart(msg.StartsAt, sdkCtx.BlockTime().Unix()); err != nil {
		return nil, err
	}
	if has, err := k.Meetings.Has(ctx, msg.MeetingId); err != nil {
		return nil, err
	} else if has {
		return nil, types.ErrMeetingExists.Wrapf("meeting_id %x", msg.MeetingId)
	}
	now := sdkCtx.BlockTime().Unix()
	if msg.ValidUntil < now || msg.ValidUntil > now+types.MaxCreateValidity {
		return nil, types.ErrSignatureExpired.Wrapf("valid_until %d: want %d..%d (block time to %d s later)", msg.ValidUntil, now, now+types.MaxCreateValidity, types.MaxCreateValidity)
	}
	sb := types.CreateSignBytes(sdkCtx.ChainID(), msg.MeetingId, msg.UserId, msg.DeviceId, msg.EphPk, msg.Policy, msg.DurationSeconds, msg.ValidUntil, msg.StartsAt)
	if err := k.verifyDevice(ctx, msg.UserId, msg.DeviceId, sb, msg.Sig); err != nil {
		return nil, err
	}

	m := types.Meeting{
		MeetingId: msg.MeetingId, LeaderUser: msg.UserId, LeaderDevice: msg.DeviceId, LeaderEphPk: msg.EphPk,
		Policy: msg.Policy, Status: types.Status_STATUS_OPEN, CreatedHeight: sdkCtx.BlockHeight(),
		ExpiresAt: types.ScheduleEnd(now, msg.StartsAt, msg.DurationSeconds), CreateValidUntil: msg.ValidUntil,
		StartsAt: msg.StartsAt,
	}
	if err := k.useEphKey(ctx, m.MeetingId, msg.EphPk); err != nil {
		return nil, err
	}
	// The leader is a member like any other: it holds an admitted request
	// with its ephemeral key, so every roster rule treats it the same way.
	// Its request is the first entry of the request log.
	seq, err := k.appendLog(ctx, &m, msg.UserId, msg.DeviceId, types.LogKind_LOG_KIND_CREATE)
	if err != nil {
		return nil, err
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return nil, err
	}
	leaderReq := types.JoinRequest{
		MeetingId: m.MeetingId, UserId: msg.UserId, DeviceId: msg.DeviceId, EphPk: msg.EphPk,
		Status: types.RequestStatus_REQUEST_STATUS_ADMITTED, Height: sdkCtx.BlockHeight(), Seq: seq,
	}
	if err := k.Requests.Set(ctx, types.JoinRequestKey(m.MeetingId, msg.Ref()), leaderReq); err != nil {
		return nil, err
	}
	for _, err := range []error{
		k.DeviceIndex.Set(ctx, collections.Join3(msg.UserId, msg.DeviceId, m.MeetingId)),
		k.LeaderIndex.Set(ctx, collections.Join(m.LeaderUser, m.MeetingId)),
		k.ExpiryQueue.Set(ctx, collections.Join(m.ExpiresAt, m.MeetingId)),
		k.queueUnheld(ctx, m),
	} {
		if err != nil {
			return nil, err
		}
	}
	return &types.MsgCreateMeetingResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventMeetingCreated{
		MeetingId: m.MeetingId, LeaderUser: m.LeaderUser, LeaderDevice: m.LeaderDevice, ExpiresAt: m.ExpiresAt,
		StartsAt: m.StartsAt,
	})
}

// RequestJoin publishes a device's ephemeral key for a meeting.
func (s msgServer) RequestJoin(ctx context.Context, msg *types.MsgRequestJoin) (*types.MsgRequestJoinResponse, error) {
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
	if len(msg.Sealed) > types.MaxSealedSize {
		return nil, types.ErrInvalidSealed.Wrapf("sealed: at most %d bytes, got %d", types.MaxSealedSize, len(msg.Sealed))
	}
	if len(m.Policy.Allowlist) > 0 && !slices.Contains(m.Policy.Allowlist, msg.UserId) {
		return nil, types.ErrNotAllowed.Wrapf("user_id %q may not join meeting %x", msg.UserId, msg.MeetingId)
	}
	prev, err := k.Requests.Get(ctx, types.JoinRequestKey(msg.MeetingId, msg.Ref()))
	switch {
	case err == nil && prev.Status.IsOpen():
		// (Checked before the key-reuse check so a duplicate says so.)
		return nil, types.ErrDuplicateRequest.Wrapf("%s/%s already has a %s request in meeting %x", msg.UserId, msg.DeviceId, prev.Status, msg.MeetingId)
	case err != nil && !errors.Is(err, collections.ErrNotFound):
		return nil, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := k.PendingCount.Get(ctx, msg.MeetingId)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	if pending >= uint64(params.MaxPendingRequests) {
		return nil, types.ErrTooManyRequests.Wrapf("meeting %x has %d pending requests, the maximum", msg.MeetingId, pending)
	}
	sb := types.RequestSignBytes(sdkCtx.ChainID(), msg.MeetingId, m.CreatedHeight, msg.UserId, msg.DeviceId, msg.EphPk, msg.Sealed)
	if err := k.verifyDevice(ctx, msg.UserId, msg.DeviceId, sb, msg.Sig); err != nil {
		return nil, err
	}
	if err := k.useEphKey(ctx, msg.MeetingId, msg.EphPk); err != nil {
		return nil, err
	}

	// A device that left, was removed or expired comes back only through
	// this new request, with a new key.
	seq, err := k.appendLog(ctx, &m, msg.UserId, msg.DeviceId, types.LogKind_LOG_KIND_REQUEST)
	if err != nil {
		return nil, err
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return nil, err
	}
	r := types.JoinRequest{
		MeetingId: msg.MeetingId, UserId: msg.UserId, DeviceId: msg.DeviceId,
		EphPk: msg.EphPk, Sealed: msg.Sealed, Height: sdkCtx.BlockHeight(), Seq: seq,
	}
	if err := k.addRequest(ctx, m, &r); err != nil {
		return nil, err
	}
	if err := k.DeviceIndex.Set(ctx, collections.Join3(msg.UserId, msg.DeviceId, msg.MeetingId)); err != nil {
		return nil, err
	}
	return &types.MsgRequestJoinResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventJoinRequested{
		MeetingId: msg.MeetingId, UserId: msg.UserId, DeviceId: msg.DeviceId,
	})
}

// Leave takes a device out of a meeting; a rekey is due if it was in the roster.
func (s msgServer) Leave(ctx context.Context, msg *types.MsgLeave) (*types.MsgLeaveResponse, error) {
	k := s.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return nil, err
	}
	if err := validateDeviceRef(msg.UserId, msg.DeviceId); err != nil {
		return nil, err
	}
	r, err := k.Requests.Get(ctx, types.JoinRequestKey(msg.MeetingId, msg.Ref()))
	if err != nil || !r.Status.IsOpen() {
		return nil, types.ErrNotRequested.Wrapf("%s/%s has no open request in meeting %x", msg.UserId, msg.DeviceId, msg.MeetingId)
	}
	if msg.UserId == m.LeaderUser && msg.DeviceId == m.LeaderDevice {
		return nil, types.ErrLeaderCannotLeave.Wrap("transfer leadership or end the meeting first")
	}
	sb := types.LeaveSignBytes(sdkCtx.ChainID(), msg.MeetingId, msg.UserId, msg.DeviceId, types.EphKeyHash(r.EphPk))
	if err := k.verifyDevice(ctx, msg.UserId, msg.DeviceId, sb, msg.Sig); err != nil {
		return nil, err
	}
	wasAdmitted := r.Status == types.RequestStatus_REQUEST_STATUS_ADMITTED
	if err := k.setRequestStatus(ctx, &r, types.RequestStatus_REQUEST_STATUS_LEFT); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventMemberLeft{
		MeetingId: msg.MeetingId, UserId: msg.UserId, DeviceId: msg.DeviceId,
	}); err != nil {
		return nil, err
	}
	if wasAdmitted {
		if err := k.markRekeyDue(ctx, &m, "leave", msg.UserId, msg.DeviceId); err != nil {
			return nil, err
		}
	}
	return &types.MsgLeaveResponse{}, nil
}

// UpdateParams replaces the params; only the authority may.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != s.k.authority {
		return nil, types.ErrUnauthorized.Wrapf("authority: want %s, got %s", s.k.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventParamsUpdated{Params: &msg.Params})
}

func validateDeviceRef(userID, deviceID string) error {
	if err := identitytypes.ValidateUserID("user_id", userID); err != nil {
		return err
	}
	return identitytypes.ValidateDeviceID("device_id", deviceID)
}

func validatePolicy(p types.Policy, params types.Params) error {
	if p.MaxParticipants > params.MaxParticipants {
		return types.ErrInvalidPolicy.Wrapf("policy.max_participants: at most %d, got %d", params.MaxParticipants, p.MaxParticipants)
	}
	if p.MaxParticipants == 1 {
		return types.ErrInvalidPolicy.Wrap("policy.max_participants: a meeting needs at least 2")
	}
	if len(p.Allowlist) > int(params.MaxParticipants) {
		return types.ErrInvalidPolicy.Wrapf("policy.allowlist: at most %d users, got %d", params.MaxParticipants, len(p.Allowlist))
	}
	seen := make(map[string]bool, len(p.Allowlist))
	for _, u := range p.Allowlist {
		if err := identitytypes.ValidateUserID("policy.allowlist[]", u); err != nil {
			return types.ErrInvalidPolicy.Wrap(err.Error())
		}
		if seen[u] {
			return types.ErrInvalidPolicy.Wrapf("policy.allowlist: %q listed twice", u)
		}
		seen[u] = true
	}
	return nil
}

func sameDevice(aUser, aDevice, bUser, bDevice string) bool {
	return aUser == bUser && aDevice == bDevice
}
