// Package testutil builds an x/identity keeper on an in-memory store, with
// deterministic device keys and helpers that sign each message the way a
// client does. It is for tests only (this module's and the modules that
// depend on x/identity); production code must never import it.
package testutil

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdktestutil "github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/parleynet/parley/x/identity"
	"github.com/parleynet/parley/x/identity/keeper"
	"github.com/parleynet/parley/x/identity/types"
)

const (
	// ChainID is the chain ID of the fixture's context; every signature the
	// helpers make covers it.
	ChainID = "parley-test"
	// Height is the fixture's block height.
	Height = 10
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = "parley"
)

// Fixture is a keeper with its servers, context and recorded hooks.
type Fixture struct {
	Ctx       sdk.Context
	Keeper    *keeper.Keeper
	Msg       types.MsgServer
	Query     types.QueryServer
	AddrCodec address.Codec
	Codec     codec.Codec
	Authority string
	Hooks     *HookRecorder

	key *storetypes.KVStoreKey
}

// Options extend the fixture for a module built on x/identity, whose own
// fixture starts from this one.
type Options struct {
	// Stores are mounted beside x/identity's store on the same multistore.
	Stores []*storetypes.KVStoreKey
	// Modules register their types in the fixture's codec beside
	// x/identity's.
	Modules []module.AppModuleBasic
}

// NewFixture returns a keeper initialised with the default genesis on a
// fresh store, at ChainID and Height, with a HookRecorder installed.
func NewFixture(tb testing.TB) *Fixture { return NewFixtureWith(tb, Options{}) }

// NewFixtureWith is NewFixture with the stores and codec of the modules in
// o. Those modules' keepers are the caller's to build, on f.Ctx, f.Codec
// and f.AddrCodec; their identity hooks go in f.Hooks.Next.
func NewFixtureWith(tb testing.TB, o Options) *Fixture {
	tb.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	keys := map[string]*storetypes.KVStoreKey{key.Name(): key}
	for _, k := range o.Stores {
		keys[k.Name()] = k
	}
	ctx := sdktestutil.DefaultContextWithKeys(keys,
		map[string]*storetypes.TransientStoreKey{"transient_test": storetypes.NewTransientStoreKey("transient_test")}, nil)
	enc := moduletestutil.MakeTestEncodingConfig(append([]module.AppModuleBasic{identity.AppModule{}}, o.Modules...)...)
	ac := addresscodec.NewBech32Codec(Bech32Prefix)
	authority := Addr(tb, ac, 0xAA)

	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), ac, authority)
	hooks := &HookRecorder{}
	k.SetHooks(hooks)

	f := &Fixture{
		Ctx:       ctx.WithChainID(ChainID).WithBlockHeight(Height),
		Keeper:    k,
		Msg:       keeper.NewMsgServerImpl(k),
		Query:     keeper.NewQueryServerImpl(k),
		AddrCodec: ac,
		Codec:     enc.Codec,
		Authority: authority,
		Hooks:     hooks,
		key:       key,
	}
	require.NoError(tb, k.InitGenesis(f.Ctx, types.DefaultGenesis()))
	return f
}

// Addr returns the bech32 address of a 20-byte account filled with b.
func Addr(tb testing.TB, ac address.Codec, b byte) string {
	tb.Helper()
	bz := make([]byte, 20)
	for i := range bz {
		bz[i] = b
	}
	s, err := ac.BytesToString(sdk.AccAddress(bz))
	require.NoError(tb, err)
	return s
}

// Addr returns the bech32 address of a 20-byte account filled with b.
func (f *Fixture) Addr(tb testing.TB, b byte) string { return Addr(tb, f.AddrCodec, b) }

// Device is a device ID with a deterministic Ed25519 key.
type Device struct {
	ID   string
	Priv ed25519.PrivateKey
}

// NewDevice returns device id whose key is derived from seed, so every run
// signs with the same keys.
func NewDevice(id, seed string) Device {
	s := sha256.Sum256([]byte("parley/test/device/" + seed))
	return Device{ID: id, Priv: ed25519.NewKeyFromSeed(s[:])}
}

// Pub returns the device's public key.
func (d Device) Pub() []byte { return []byte(d.Priv.Public().(ed25519.PublicKey)) }

// Sign signs msg with the device's key.
func (d Device) Sign(msg []byte) []byte { return ed25519.Sign(d.Priv, msg) }

// RegisterMsg is a valid MsgRegisterUser for the fixture's chain.
func RegisterMsg(owner, userID string, dev Device) *types.MsgRegisterUser {
	return &types.MsgRegisterUser{
		Owner: owner, UserId: userID, DeviceId: dev.ID, Pubkey: dev.Pub(),
		PopSig: dev.Sign(types.RegisterSignBytes(ChainID, owner, userID, dev.ID, dev.Pub())),
	}
}

// AddDeviceMsg is a valid MsgAddDevice at the user's seq, approved by approver.
func AddDeviceMsg(owner, userID string, seq uint64, dev, approver Device) *types.MsgAddDevice {
	return &types.MsgAddDevice{
		Owner: owner, UserId: userID, DeviceId: dev.ID, Pubkey: dev.Pub(),
		PopSig:           dev.Sign(types.AddDevicePoPSignBytes(ChainID, owner, userID, seq, dev.ID, dev.Pub())),
		ApproverDeviceId: approver.ID,
		ApproverSig:      approver.Sign(types.ApproveSignBytes(ChainID, userID, seq, dev.ID, dev.Pub(), approver.ID)),
	}
}

// RevokeMsg is a valid MsgRevokeDevice at the user's seq, signed by signer.
func RevokeMsg(owner, userID string, seq uint64, deviceID string, signer Device) *types.MsgRevokeDevice {
	return &types.MsgRevokeDevice{
		Owner: owner, UserId: userID, DeviceId: deviceID, SignerDeviceId: signer.ID,
		Sig: signer.Sign(types.RevokeSignBytes(ChainID, userID, seq, deviceID, signer.ID)),
	}
}

// ResetMsg is a valid MsgResetUser at the user's seq.
func ResetMsg(owner, userID string, seq uint64, dev Device) *types.MsgResetUser {
	return &types.MsgResetUser{
		Owner: owner, UserId: userID, DeviceId: dev.ID, Pubkey: dev.Pub(),
		PopSig: dev.Sign(types.ResetSignBytes(ChainID, owner, userID, seq, dev.ID, dev.Pub())),
	}
}

// Seq returns the user's current seq.
func (f *Fixture) Seq(tb testing.TB, userID string) uint64 {
	tb.Helper()
	u, err := f.Keeper.Users.Get(f.Ctx, userID)
	require.NoError(tb, err)
	return u.Seq
}

// Export returns the exported genesis state.
func (f *Fixture) Export(tb testing.TB) *types.GenesisState {
	tb.Helper()
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(tb, err)
	return gs
}

// KV is one raw store entry.
type KV struct{ Key, Value []byte }

// Snapshot returns every raw entry of the module's store, indexes included,
// so a test can check that a rejected message wrote nothing at all.
func (f *Fixture) Snapshot(tb testing.TB) []KV {
	tb.Helper()
	it := f.Ctx.KVStore(f.key).Iterator(nil, nil)
	defer it.Close()
	var out []KV
	for ; it.Valid(); it.Next() {
		out = append(out, KV{Key: append([]byte(nil), it.Key()...), Value: append([]byte(nil), it.Value()...)})
	}
	return out
}

// Raw returns the value stored at a raw key of the module's store (nil if
// none), for tests of the store keys clients compute.
func (f *Fixture) Raw(key []byte) []byte { return f.Ctx.KVStore(f.key).Get(key) }

// StoreKey is the key of x/identity's store.
func (f *Fixture) StoreKey() *storetypes.KVStoreKey { return f.key }

// ResetEvents gives the context a fresh event manager.
func (f *Fixture) ResetEvents() {
	f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager())
}

// Events returns the typed events emitted since the last ResetEvents whose
// type is the proto name of want's type.
func Events[T proto.Message](tb testing.TB, f *Fixture) []T {
	tb.Helper()
	var zero T
	name := proto.MessageName(zero)
	var out []T
	for _, e := range f.Ctx.EventManager().ABCIEvents() {
		if e.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(e)
		require.NoError(tb, err)
		out = append(out, msg.(T))
	}
	return out
}

// HookCall is one recorded AfterDeviceRevoked call.
type HookCall struct{ UserID, DeviceID string }

// HookRecorder records AfterDeviceRevoked calls and returns Err from each;
// while Err is nil it passes each call on to Next, if set (the hooks of a
// module built on x/identity: the keeper takes one set of hooks).
type HookRecorder struct {
	Calls []HookCall
	Err   error
	Next  types.IdentityHooks
}

var _ types.IdentityHooks = (*HookRecorder)(nil)

// AfterDeviceRevoked implements types.IdentityHooks.
func (h *HookRecorder) AfterDeviceRevoked(ctx context.Context, userID, deviceID string) error {
	h.Calls = append(h.Calls, HookCall{UserID: userID, DeviceID: deviceID})
	if h.Err != nil || h.Next == nil {
		return h.Err
	}
	return h.Next.AfterDeviceRevoked(ctx, userID, deviceID)
}
