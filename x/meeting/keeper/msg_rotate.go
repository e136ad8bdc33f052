package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// RotateEphKey replaces the ephemeral key of an admitted device's request,
// so that a device whose key leaked recovers at the next commit: the
// current epoch keeps the old key's hash, the next roster hash uses the
// new key.
func (s msgServer) RotateEphKey(ctx context.Context, msg *types.MsgRotateEphKey) (*types.MsgRotateEphKeyResponse, error) {
	m, r, err := s.k.validateRotate(ctx, msg)
	if err != nil {
		return nil, err
	}
	if err := s.k.applyRotate(ctx, m, r, msg.EphPk); err != nil {
		return nil, err
	}
	return &types.MsgRotateEphKeyResponse{}, nil
}

// validateRotate checks the meeting, the device's admitted request, the new
// key's format and the signature over the current key's hash. It writes
// nothing.
func (k *Keeper) validateRotate(ctx context.Context, msg *types.MsgRotateEphKey) (types.Meeting, types.JoinRequest, error) {
	m, err := k.openMeeting(ctx, msg.MeetingId)
	if err != nil {
		return m, types.JoinRequest{}, err
	}
	if err := validateDeviceRef(msg.UserId, msg.DeviceId); err != nil {
		return m, types.JoinRequest{}, err
	}
	if err := types.ValidateEphKey("eph_pk", msg.EphPk); err != nil {
		return m, types.JoinRequest{}, err
	}
	r, err := k.Requests.Get(ctx, types.JoinRequestKey(msg.MeetingId, msg.Ref()))
	if err != nil || r.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED {
		status := "none"
		if err == nil {
			status = r.Status.String()
		}
		return m, r, types.ErrNotMember.Wrapf("%s/%s needs an admitted request in meeting %x to rotate its key (request: %s)", msg.UserId, msg.DeviceId, msg.MeetingId, status)
	}
	sb := types.RotateSignBytes(sdk.UnwrapSDKContext(ctx).ChainID(), msg.MeetingId, msg.UserId, msg.DeviceId, types.EphKeyHash(r.EphPk), msg.EphPk)
	return m, r, k.verifyDevice(ctx, msg.UserId, msg.DeviceId, sb, msg.Sig)
}

// applyRotate records the new key as used, refusing one the meeting has
// seen (before anything is written), puts it in the request (and in the
// meeting if the device leads it) and logs the change.
func (k *Keeper) applyRotate(ctx context.Context, m types.Meeting, r types.JoinRequest, ephPK []byte) error {
	if err := k.useEphKey(ctx, m.MeetingId, ephPK); err != nil {
		return err
	}
	seq, err := k.appendLog(ctx, &m, r.UserId, r.DeviceId, types.LogKind_LOG_KIND_ROTATE)
	if err != nil {
		return err
	}
	r.EphPk, r.Seq = ephPK, seq
	if err := k.Requests.Set(ctx, types.JoinRequestKey(r.MeetingId, r.Ref()), r); err != nil {
		return err
	}
	if sameDevice(r.UserId, r.DeviceId, m.LeaderUser, m.LeaderDevice) {
		m.LeaderEphPk = ephPK
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEphKeyRotated{
		MeetingId: m.MeetingId, UserId: r.UserId, DeviceId: r.DeviceId, EphPkHash: types.EphKeyHash(ephPK), Seq: seq,
	})
}
