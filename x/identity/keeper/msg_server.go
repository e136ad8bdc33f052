package keeper

import (
	"bytes"
	"context"
	"errors"

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
	if err := k.checkKeyUnused(ctx, msg.Pubkey); err != nil {
		return nil, err
	}
	signBytes := types.RegisterSignBytes(sdkCtx.ChainID(), msg.Owner, msg.UserId, msg.DeviceId, msg.Pubkey)
	if err := types.VerifySignature("pop_sig", msg.Pubkey, signBytes, msg.PopSig); err != nil {
		return nil, err
	}

	u := types.User{UserId: msg.UserId, Owner: owner, CreatedHeight: sdkCtx.BlockHeight()}
	if err := k.addDevice(ctx, &u, msg.DeviceId, msg.Pubkey, ""); err != nil {
		return nil, err
	}
	seq := u.Seq
	if err := k.appendHistory(ctx, &u, types.HistoryEntry{Op: types.Op_OP_REGISTER, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey}); err != nil {
		return nil, err
	}
	if err := k.Users.Set(ctx, u.UserId, u); err != nil {
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
	if err := k.checkDeviceIDUnused(ctx, msg.UserId, msg.DeviceId); err != nil {
		return nil, err
	}
	if err := k.checkKeyUnused(ctx, msg.Pubkey); err != nil {
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

	if err := k.addDevice(ctx, &u, msg.DeviceId, msg.Pubkey, msg.ApproverDeviceId); err != nil {
		return nil, err
	}
	seq := u.Seq
	if err := k.appendHistory(ctx, &u, types.HistoryEntry{Op: types.Op_OP_ADD, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey, Approver: msg.ApproverDeviceId}); err != nil {
		return nil, err
	}
	if err := k.Users.Set(ctx, u.UserId, u); err != nil {
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
	if err := k.checkDeviceIDUnused(ctx, msg.UserId, msg.DeviceId); err != nil {
		return nil, err
	}
	if err := k.checkKeyUnused(ctx, msg.Pubkey); err != nil {
		return nil, err
	}
	signBytes := types.ResetSignBytes(sdkCtx.ChainID(), msg.Owner, msg.UserId, u.Seq, msg.DeviceId, msg.Pubkey)
	if err := types.VerifySignature("pop_sig", msg.Pubkey, signBytes, msg.PopSig); err != nil {
		return nil, err
	}

	seq := u.Seq
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
	if err := k.addDevice(ctx, &u, msg.DeviceId, msg.Pubkey, ""); err != nil {
		return nil, err
	}
	u.ResetCount++
	if err := k.appendHistory(ctx, &u, types.HistoryEntry{Op: types.Op_OP_RESET, DeviceId: msg.DeviceId, Pubkey: msg.Pubkey}); err != nil {
		return nil, err
	}
	if err := k.Users.Set(ctx, u.UserId, u); err != nil {
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

func validateNewDevice(userID, deviceID string, pubkey []byte) error {
	if err := types.ValidateUserID("user_id", userID); err != nil {
		return err
	}
	if err := types.ValidateDeviceID("device_id", deviceID); err != nil {
		return err
	}
	return types.ValidatePubKey("pubkey", pubkey)
}

// canonicalAddress decodes an account address and returns its canonical
// (lowercase bech32) spelling, so one account is always stored the same way.
func (k *Keeper) canonicalAddress(addr string) (string, error) {
	bz, err := k.addressCodec.StringToBytes(addr)
	if err != nil {
		return "", types.ErrInvalidAddress.Wrapf("owner %q: %v", addr, err)
	}
	canonical, err := k.addressCodec.BytesToString(bz)
	if err != nil {
		return "", types.ErrInvalidAddress.Wrapf("owner %q: %v", addr, err)
	}
	return canonical, nil
}

// ownedUser loads a user and checks that owner (in any spelling) owns it.
func (k *Keeper) ownedUser(ctx context.Context, owner, userID string) (types.User, error) {
	owner, err := k.canonicalAddress(owner)
	if err != nil {
		return types.User{}, err
	}
	u, err := k.Users.Get(ctx, userID)
	if errors.Is(err, collections.ErrNotFound) {
		return u, types.ErrUserNotFound.Wrapf("user_id %q", userID)
	} else if err != nil {
		return u, err
	}
	if u.Owner != owner {
		return u, types.ErrNotOwner.Wrapf("user %s is owned by %s, not %s", userID, u.Owner, owner)
	}
	return u, nil
}

// signingDevice returns an active device of userID that signs a change.
func (k *Keeper) signingDevice(ctx context.Context, userID, deviceID, field string) (types.Device, error) {
	d, err := k.Devices.Get(ctx, collections.Join(userID, deviceID))
	if err != nil {
		return d, types.ErrDeviceNotFound.Wrapf("%s %q is not a device of %s", field, deviceID, userID)
	}
	if d.RevokedHeight != 0 {
		return d, types.ErrDeviceRevoked.Wrapf("%s %q was revoked at height %d", field, deviceID, d.RevokedHeight)
	}
	return d, nil
}

func (k *Keeper) checkDeviceIDUnused(ctx context.Context, userID, deviceID string) error {
	has, err := k.Devices.Has(ctx, collections.Join(userID, deviceID))
	if err != nil {
		return err
	}
	if has {
		return types.ErrDeviceExists.Wrapf("device_id %q was already used by %s; device IDs are never reused", deviceID, userID)
	}
	return nil
}

func (k *Keeper) checkKeyUnused(ctx context.Context, pubkey []byte) error {
	holder, err := k.PubKeys.Get(ctx, pubkey)
	if err == nil {
		return types.ErrPubKeyInUse.Wrapf("pubkey already belongs to %s", holder)
	}
	if !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	return nil
}

func (k *Keeper) checkDeviceLimit(ctx context.Context, userID string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	active, err := k.ActiveDevices(ctx, userID)
	if err != nil {
		return err
	}
	if uint32(len(active)) >= params.MaxDevicesPerUser {
		return types.ErrTooManyDevices.Wrapf("%s has %d active devices, the maximum is %d", userID, len(active), params.MaxDevicesPerUser)
	}
	return nil
}

func (k *Keeper) addDevice(ctx context.Context, u *types.User, deviceID string, pubkey []byte, approver string) error {
	d := types.Device{
		UserId: u.UserId, DeviceId: deviceID, Pubkey: bytes.Clone(pubkey),
		AddedBy: approver, AddedHeight: sdk.UnwrapSDKContext(ctx).BlockHeight(),
	}
	if err := k.Devices.Set(ctx, collections.Join(u.UserId, deviceID), d); err != nil {
		return err
	}
	return k.PubKeys.Set(ctx, d.Pubkey, u.UserId+"/"+deviceID)
}

// revoke marks d revoked, emits its event and tells the hooks.
func (k *Keeper) revoke(ctx context.Context, u *types.User, d types.Device, signer string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	d.RevokedHeight = sdkCtx.BlockHeight()
	if d.RevokedHeight == 0 {
		d.RevokedHeight = 1 // a revocation at genesis height must still read as revoked
	}
	if err := k.Devices.Set(ctx, collections.Join(d.UserId, d.DeviceId), d); err != nil {
		return err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventDeviceRevoked{
		UserId: d.UserId, DeviceId: d.DeviceId, SignerDeviceId: signer, Seq: u.Seq,
	}); err != nil {
		return err
	}
	if k.hooks != nil {
		return k.hooks.AfterDeviceRevoked(ctx, d.UserId, d.DeviceId)
	}
	return nil
}
