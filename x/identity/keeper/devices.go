package keeper

import (
	"bytes"
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/identity/types"
)

// The steps every new device goes through, whether it comes with
// RegisterUser, AddDevice or ResetUser: validateNewDevice (the message's
// fields), checkNewDevice (its ID and key never used; a new user needs only
// checkKeyUnused), the handler's own signature checks, then enrolDevice.

// validateNewDevice checks the fields that name a new device and its key.
func validateNewDevice(userID, deviceID string, pubkey []byte) error {
	if err := types.ValidateUserID("user_id", userID); err != nil {
		return err
	}
	if err := types.ValidateDeviceID("device_id", deviceID); err != nil {
		return err
	}
	return types.ValidatePubKey("pubkey", pubkey)
}

// checkNewDevice refuses a device ID the user has ever used and a key any
// device has ever held.
func (k *Keeper) checkNewDevice(ctx context.Context, userID, deviceID string, pubkey []byte) error {
	has, err := k.Devices.Has(ctx, collections.Join(userID, deviceID))
	if err != nil {
		return err
	}
	if has {
		return types.ErrDeviceExists.Wrapf("device_id %q was already used by %s; device IDs are never reused", deviceID, userID)
	}
	return k.checkKeyUnused(ctx, pubkey)
}

// checkKeyUnused refuses a key any device has ever held.
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

// checkDeviceLimit refuses a further device to a user that has
// max_devices_per_user active ones.
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

// enrolDevice stores a new device of u (approved by approver, "" if none)
// and binds its key to it, records op in u's history and saves u. It
// returns the seq of the history entry.
func (k *Keeper) enrolDevice(ctx context.Context, u *types.User, op types.Op, deviceID string, pubkey []byte, approver string) (uint64, error) {
	if err := k.addDevice(ctx, u, deviceID, pubkey, approver); err != nil {
		return 0, err
	}
	seq := u.Seq
	if err := k.appendHistory(ctx, u, types.HistoryEntry{Op: op, DeviceId: deviceID, Pubkey: pubkey, Approver: approver}); err != nil {
		return 0, err
	}
	return seq, k.Users.Set(ctx, u.UserId, *u)
}

func (k *Keeper) addDevice(ctx context.Context, u *types.User, deviceID string, pubkey []byte, approver string) error {
	d := types.Device{
		UserId: u.UserId, DeviceId: deviceID, Pubkey: bytes.Clone(pubkey),
		AddedBy: approver, AddedHeight: sdk.UnwrapSDKContext(ctx).BlockHeight(),
	}
	if err := k.Devices.Set(ctx, collections.Join(u.UserId, deviceID), d); err != nil {
		return err
	}
	return k.PubKeys.Set(ctx, d.Pubkey, d.Ref().String())
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
