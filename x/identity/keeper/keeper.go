package keeper

import (
	"context"
	"github.com/parleynet/parley/internal/markset"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/identity/types"
)

// Keeper holds the identity registry's state.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	// authority may change params (the gov module account).
	authority string
	hooks     types.IdentityHooks

	Schema collections.Schema
	Params collections.Item[types.Params]
	Users  collections.Map[string, types.User]
	// UsersByOwner indexes users by owner account.
	UsersByOwner markset.Set[collections.Pair[sdk.AccAddress, string]]
	Devices      collections.Map[collections.Pair[string, string], types.Device]
	History      collections.Map[collections.Pair[string, uint64], types.HistoryEntry]
	// PubKeys maps every device key ever registered to its device's
	// DeviceRef as text ("user_id/device_id"), so no key is ever bound to
	// two devices.
	PubKeys collections.Map[[]byte, string]
}

// NewKeeper builds the keeper and its collections schema.
func NewKeeper(cdc codec.BinaryCodec, storeService storetypes.KVStoreService, ac address.Codec, authority string) *Keeper {
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:          cdc,
		addressCodec: ac,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsPrefix, "params", codec.CollValue[types.Params](cdc)),
		Users:        collections.NewMap(sb, types.UsersPrefix, "users", types.UserKeyCodec, codec.CollValue[types.User](cdc)),
		UsersByOwner: markset.New(sb, types.OwnerIndexPrefix, "users_by_owner", collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey)),
		Devices:      collections.NewMap(sb, types.DevicesPrefix, "devices", types.DeviceKeyCodec, codec.CollValue[types.Device](cdc)),
		History:      collections.NewMap(sb, types.HistoryPrefix, "history", types.HistoryKeyCodec, codec.CollValue[types.HistoryEntry](cdc)),
		PubKeys:      collections.NewMap(sb, types.PubKeyIndexPrefix, "pubkeys", collections.BytesKey, collections.StringValue),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetHooks installs the hooks; it may be called once, during app wiring.
func (k *Keeper) SetHooks(h types.IdentityHooks) {
	if k.hooks != nil {
		panic("identity hooks already set")
	}
	k.hooks = h
}

// Authority returns the account allowed to change params.
func (k *Keeper) Authority() string { return k.authority }

// ActiveDevices returns a user's devices that are not revoked, in device ID order.
func (k *Keeper) ActiveDevices(ctx context.Context, userID string) ([]types.Device, error) {
	var out []types.Device
	rng := collections.NewPrefixedPairRange[string, string](userID)
	err := k.Devices.Walk(ctx, rng, func(_ collections.Pair[string, string], d types.Device) (bool, error) {
		if d.RevokedHeight == 0 {
			out = append(out, d)
		}
		return false, nil
	})
	return out, err
}

// ActiveDevice returns a device if it exists and is not revoked; other
// modules verify device signatures with it.
func (k *Keeper) ActiveDevice(ctx context.Context, userID, deviceID string) (types.Device, error) {
	d, err := k.Devices.Get(ctx, collections.Join(userID, deviceID))
	if err != nil {
		return d, types.ErrDeviceNotFound.Wrapf("device %s/%s", userID, deviceID)
	}
	if d.RevokedHeight != 0 {
		return d, types.ErrDeviceRevoked.Wrapf("device %s/%s was revoked at height %d", userID, deviceID, d.RevokedHeight)
	}
	return d, nil
}

// indexOwner records u under its owner account.
func (k *Keeper) indexOwner(ctx context.Context, u types.User) error {
	owner, err := k.addressCodec.StringToBytes(u.Owner)
	if err != nil {
		return types.ErrInvalidAddress.Wrapf("owner %q: %v", u.Owner, err)
	}
	return k.UsersByOwner.Set(ctx, collections.Join(sdk.AccAddress(owner), u.UserId))
}

// appendHistory writes the next history entry of user u and advances its seq.
func (k *Keeper) appendHistory(ctx context.Context, u *types.User, e types.HistoryEntry) error {
	e.UserId = u.UserId
	e.Seq = u.Seq
	e.Height = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.History.Set(ctx, collections.Join(u.UserId, e.Seq), e); err != nil {
		return err
	}
	u.Seq++
	return nil
}
