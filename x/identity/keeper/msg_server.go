package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/identity/types"
)

type msgServer struct{ k *Keeper }

// NewMsgServerImpl returns the module's Msg service.
func NewMsgServerImpl(k *Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

// RegisterUser claims user_id for the owner with its first device.
func (m msgServer) RegisterUser(ctx context.Context, msg *types.MsgRegisterUser) (*types.MsgRegisterUserResponse, error) {
	k := m.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	owner, err := k.canonicalAddress(msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := validateNewDevice(msg.UserId, msg.DeviceId, msg.Pubkey); err != nil {
		return nil, err
	}
	if has, err := k.Users.Has(ctx, msg.UserId); err != nil {
		return nil, err
	} else if has {
		return nil, types.ErrUserExists.Wrapf("user_id %q is taken", msg.UserId)
	}
	// A new user has no device IDs yet: only the key can be taken.
	if err := k.checkKeyUnused(ctx, msg.Pubkey); err != nil {
		return nil, err
	}
	signBytes := types.RegisterSignBytes(sdkCtx.ChainID(), msg.Owner, msg.UserId, msg.DeviceId, msg.Pubkey)
	if err := types.VerifySignature("pop_sig", msg.Pubkey, signBytes, msg.PopSig); err != nil {
		return nil, err
	}

	u := types.User{UserId: msg.UserId, Owner: owner, CreatedHeight: sdkCtx.BlockHeight()}
	seq, err := k.enrolDevice(ctx, &u, types.Op_OP_REGISTER, msg.DeviceId, msg.Pubkey, "")
	if err != nil {
		return nil, err
	}
	if err := k.indexOwner(ctx, u); err != nil {
		return nil, err
	}
	return &types.MsgRegisterUserResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventUserRegistered{
		UserId: u.UserId, Owner: u.Owner, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey, Seq: seq,
	})
}

// AddDevice adds a device approved by an active device of the same user.
func (m msgServer) AddDevice(ctx context.Context, msg *types.MsgAddDevice) (*types.MsgAddDeviceResponse, error) {
	k := m.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := validateNewDevice(msg.UserId, msg.DeviceId, msg.Pubkey); err != nil {
		return nil, err
	}
	if err := types.ValidateDeviceID("approver_device_id", msg.ApproverDeviceId); err != nil {
		return nil, err
	}
	u, err := k.ownedUser(ctx, msg.Owner, msg.UserId)
	if err != nil {
		return nil, err
	}
	if err := k.checkNewDevice(ctx, msg.UserId, msg.DeviceId, msg.Pubkey); err != nil {
		return nil, err
	}
	approver, err := k.signingDevice(ctx, msg.UserId, msg.ApproverDeviceId, "approver_device_id")
	if err != nil {
		return nil, err
	}
	if err := k.checkDeviceLimit(ctx, msg.UserId); err != nil {
		return nil, err
	}
	chainID := sdkCtx.ChainID()
	approve := types.ApproveSignBytes(chainID, msg.UserId, u.Seq, msg.DeviceId, msg.Pubkey, msg.ApproverDeviceId)
	if err := types.VerifySignature("approver_sig", approver.Pubkey, approve, msg.ApproverSig); err != nil {
		return nil, errorsmod.Wrapf(err, "approval by %s/%s for seq %d", msg.UserId, msg.ApproverDeviceId, u.Seq)
	}
	pop := types.AddDevicePoPSignBytes(chainID, msg.Owner, msg.UserId, u.Seq, msg.DeviceId, msg.Pubkey)
	if err := types.VerifySignature("pop_sig", msg.Pubkey, pop, msg.PopSig); err != nil {
		return nil, err
	}

	seq, err := k.enrolDevice(ctx, &u, types.Op_OP_ADD, msg.DeviceId, msg.Pubkey, msg.ApproverDeviceId)
	if err != nil {
		return nil, err
	}
	return &types.MsgAddDeviceResponse{Seq: seq}, sdkCtx.EventManager().EmitTypedEvent(&types.EventDeviceAdded{
		UserId: u.UserId, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey, ApproverDeviceId: msg.ApproverDeviceId, Seq: seq,
	})
}

// RevokeDevice revokes a device, signed by an active device of the user.
func (m msgServer) RevokeDevice(ctx context.Context, msg *types.MsgRevokeDevice) (*types.MsgRevokeDeviceResponse, error) {
	k := m.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := types.ValidateUserID("user_id", msg.UserId); err != nil {
		return nil, err
	}
	if err := types.ValidateDeviceID("device_id", msg.DeviceId); err != nil {
		return nil, err
	}
	if err := types.ValidateDeviceID("signer_device_id", msg.SignerDeviceId); err != nil {
		return nil, err
	}
	u, err := k.ownedUser(ctx, msg.Owner, msg.UserId)
	if err != nil {
		return nil, err
	}
	target, err := k.Devices.Get(ctx, collections.Join(msg.UserId, msg.DeviceId))
	if err != nil {
		return nil, types.ErrDeviceNotFound.Wrapf("device_id %q is not a device of %s", msg.DeviceId, msg.UserId)
	}
	if target.RevokedHeight != 0 {
		return nil, types.ErrDeviceRevoked.Wrapf("device_id %q already revoked at height %d", msg.DeviceId, target.RevokedHeight)
	}
	signer, err := k.signingDevice(ctx, msg.UserId, msg.SignerDeviceId, "signer_device_id")
	if err != nil {
		return nil, err
	}
	active, err := k.ActiveDevices(ctx, msg.UserId)
	if err != nil {
		return nil, err
	}
	if len(active) <= 1 {
		return nil, types.ErrLastDevice.Wrapf("device_id %q is the last active device of %s; only a reset may revoke it", msg.DeviceId, msg.UserId)
	}
	signBytes := types.RevokeSignBytes(sdkCtx.ChainID(), msg.UserId, u.Seq, msg.DeviceId, msg.SignerDeviceId)
	if err := types.VerifySignature("sig", signer.Pubkey, signBytes, msg.Sig); err != nil {
		return nil, errorsmod.Wrapf(err, "revocation by %s/%s for seq %d", msg.UserId, msg.SignerDeviceId, u.Seq)
	}

	seq := u.Seq
	if err := k.revoke(ctx, &u, target, msg.SignerDeviceId); err != nil {
		return nil, err
	}
	if err := k.appendHistory(ctx, &u, types.HistoryEntry{Op: types.Op_OP_REVOKE, DeviceId: msg.DeviceId, Pubkey: target.Pubkey, Approver: msg.SignerDeviceId}); err != nil {
		return nil, err
	}
	if err := k.Users.Set(ctx, u.UserId, u); err != nil {
		return nil, err
	}
	return &types.MsgRevokeDeviceResponse{Seq: seq}, nil
}

// ResetUser revokes all devices of the user and adds a single new one.
func (m msgServer) ResetUser(ctx context.Context, msg *types.MsgResetUser) (*types.MsgResetUserResponse, error) {
	k := m.k
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := validateNewDevice(msg.UserId, msg.DeviceId, msg.Pubkey); err != nil {
		return nil, err
	}
	u, err := k.ownedUser(ctx, msg.Owner, msg.UserId)
	if err != nil {
		return nil, err
	}
	if err := k.checkNewDevice(ctx, msg.UserId, msg.DeviceId, msg.Pubkey); err != nil {
		return nil, err
	}
	signBytes := types.ResetSignBytes(sdkCtx.ChainID(), msg.Owner, msg.UserId, u.Seq, msg.DeviceId, msg.Pubkey)
	if err := types.VerifySignature("pop_sig", msg.Pubkey, signBytes, msg.PopSig); err != nil {
		return nil, err
	}

	active, err := k.ActiveDevices(ctx, msg.UserId)
	if err != nil {
		return nil, err
	}
	revoked := make([]string, 0, len(active))
	for _, d := range active {
		if err := k.revoke(ctx, &u, d, ""); err != nil {
			return nil, err
		}
		revoked = append(revoked, d.DeviceId)
	}
	u.ResetCount++
	seq, err := k.enrolDevice(ctx, &u, types.Op_OP_RESET, msg.DeviceId, msg.Pubkey, "")
	if err != nil {
		return nil, err
	}
	return &types.MsgResetUserResponse{Seq: seq, ResetCount: u.ResetCount}, sdkCtx.EventManager().EmitTypedEvent(&types.EventUserReset{
		UserId: u.UserId, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey, ResetCount: u.ResetCount, RevokedDeviceIds: revoked, Seq: seq,
	})
}

// UpdateParams replaces the params; only the authority may.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != m.k.authority {
		return nil, types.ErrUnauthorized.Wrapf("authority: want %s, got %s", m.k.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := m.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventParamsUpdated{
		MaxDevicesPerUser: msg.Params.MaxDevicesPerUser,
	})
}
