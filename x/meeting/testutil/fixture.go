package testutil

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	identitykeeper "github.com/parleynet/parley/x/identity/keeper"
	idtest "github.com/parleynet/parley/x/identity/testutil"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting"
	"github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

const (
	// ChainID is the fixture's chain ID (x/identity's fixture's); every
	// signature the helpers make covers it.
	ChainID = idtest.ChainID
	// Height is the fixture's first block height.
	Height = idtest.Height
	// BlockInterval is how far NextBlock moves the block time per block.
	BlockInterval = 5 * time.Second
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = idtest.Bech32Prefix
)

// StartTime is the block time of the fixture's first block.
var StartTime = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Fixture is x/identity's fixture with x/meeting's keeper on the same
// multistore, its servers, and the identity hooks wired to it. Ctx, Codec,
// AddrCodec, Authority (who may change the params of both modules) and
// Hooks come from the embedded identity fixture, whose Keeper, Msg and
// Query are Identity, IdentityMsg and IdentityQuery here. Tests may
// replace Ctx (e.g. WithChainID) and must put it back.
type Fixture struct {
	*idtest.Fixture
	// Owner is the account that owns every user RegisterUser creates.
	Owner string

	Identity      *identitykeeper.Keeper
	IdentityMsg   identitytypes.MsgServer
	IdentityQuery identitytypes.QueryServer
	Keeper        *keeper.Keeper
	Msg           types.MsgServer
	Query         types.QueryServer

	tb      testing.TB
	keys    []*storetypes.KVStoreKey
	nextEph int
}

// NewFixture returns both keepers initialised with their default genesis,
// the identity hooks wired to x/meeting, at ChainID, Height and StartTime.
func NewFixture(tb testing.TB) *Fixture {
	tb.Helper()
	mtKey := storetypes.NewKVStoreKey(types.StoreKey)
	id := idtest.NewFixtureWith(tb, idtest.Options{
		Stores:  []*storetypes.KVStoreKey{mtKey},
		Modules: []module.AppModuleBasic{meeting.AppModule{}},
	})
	id.Ctx = id.Ctx.WithBlockTime(StartTime)

	f := &Fixture{
		Fixture:       id,
		Owner:         id.Addr(tb, 0x01),
		Identity:      id.Keeper,
		IdentityMsg:   id.Msg,
		IdentityQuery: id.Query,
		tb:            tb,
		keys:          []*storetypes.KVStoreKey{id.StoreKey(), mtKey},
	}
	f.Keeper = keeper.NewKeeper(f.Codec, runtime.NewKVStoreService(mtKey), f.Identity, f.Authority)
	f.Hooks.Next = f.Keeper.Hooks()
	f.Msg = keeper.NewMsgServerImpl(f.Keeper)
	f.Query = keeper.NewQueryServerImpl(f.Keeper)
	require.NoError(tb, f.Keeper.InitGenesis(f.Ctx, types.DefaultGenesis()))
	return f
}

// DeviceKey is the deterministic Ed25519 key of user/device, the one
// RegisterUser and AddDevice register.
func DeviceKey(user, device string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("parley/test/meeting-device/" + user + "/" + device))
	return ed25519.NewKeyFromSeed(s[:])
}

// RegisterUser registers user, owned by f.Owner, with its first device and
// returns that device's key.
func (f *Fixture) RegisterUser(tb testing.TB, user, device string) ed25519.PrivateKey {
	tb.Helper()
	dev := idtest.Device{ID: device, Priv: DeviceKey(user, device)}
	_, err := f.IdentityMsg.RegisterUser(f.Ctx, idtest.RegisterMsg(f.Owner, user, dev))
	require.NoError(tb, err)
	return dev.Priv
}

// AddDevice adds newDevice to user, approved by the active device whose key
// is approverKey, and returns the new device's key.
func (f *Fixture) AddDevice(tb testing.TB, user, newDevice string, approverKey ed25519.PrivateKey) ed25519.PrivateKey {
	tb.Helper()
	approver := idtest.Device{Priv: approverKey}
	holder, err := f.Identity.PubKeys.Get(f.Ctx, approver.Pub())
	require.NoError(tb, err, "approverKey is not a registered device key")
	ref, err := identitytypes.ParseDeviceRef(holder)
	require.NoError(tb, err)
	require.Equalf(tb, user, ref.User, "approverKey belongs to %s, not to a device of %s", holder, user)
	approver.ID = ref.Device
	dev := idtest.Device{ID: newDevice, Priv: DeviceKey(user, newDevice)}
	_, err = f.IdentityMsg.AddDevice(f.Ctx, idtest.AddDeviceMsg(f.Owner, user, f.Seq(tb, user), dev, approver))
	require.NoError(tb, err)
	return dev.Priv
}

// RevokeDevice revokes user/device through x/identity's MsgRevokeDevice,
// signed by signerDevice; x/identity then calls x/meeting's hook.
func (f *Fixture) RevokeDevice(tb testing.TB, user, device, signerDevice string, signerKey ed25519.PrivateKey) {
	tb.Helper()
	signer := idtest.Device{ID: signerDevice, Priv: signerKey}
	_, err := f.IdentityMsg.RevokeDevice(f.Ctx, idtest.RevokeMsg(f.Owner, user, f.Seq(tb, user), device, signer))
	require.NoError(tb, err)
}

// NewMeetingID returns a deterministic 16-byte meeting ID for n.
func NewMeetingID(n int) []byte {
	id := make([]byte, types.MeetingIDSize)
	copy(id, "meeting-")
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

// NextBlock ends the current block n times: it runs the meeting EndBlocker
// at the current height and time, with a fresh event manager, then moves
// to the next height, BlockInterval later. Afterwards the context holds the
// events of the last EndBlocker run. An EndBlocker error fails the test
// that made the fixture.
func (f *Fixture) NextBlock(n int) {
	f.tb.Helper()
	for range n {
		f.ResetEvents()
		require.NoError(f.tb, f.Keeper.EndBlocker(f.Ctx))
		f.Ctx = f.Ctx.WithBlockHeight(f.Ctx.BlockHeight() + 1).
			WithBlockTime(f.Ctx.BlockTime().Add(BlockInterval))
	}
}

// SetParams replaces x/meeting's params through MsgUpdateParams.
func (f *Fixture) SetParams(tb testing.TB, p types.Params) {
	tb.Helper()
	_, err := f.Msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(tb, err)
}

// Export returns x/meeting's exported genesis state.
func (f *Fixture) Export(tb testing.TB) *types.GenesisState {
	tb.Helper()
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(tb, err)
	return gs
}

// KV is one raw store entry.
type KV struct{ Key, Value []byte }

// Snapshot returns every raw entry of both modules' stores, indexes and
// queues included, so a test can check that a rejected message wrote nothing.
func (f *Fixture) Snapshot(tb testing.TB) []KV {
	tb.Helper()
	var out []KV
	for _, key := range f.keys {
		it := f.Ctx.KVStore(key).Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			out = append(out, KV{Key: append([]byte(key.Name()+"/"), it.Key()...), Value: append([]byte(nil), it.Value()...)})
		}
		require.NoError(tb, it.Close())
	}
	return out
}

// Raw returns the value at a raw key of a module's store (types.StoreKey
// or x/identity's), nil if none: what a client's proven query of
// /store/<module>/key reads.
func (f *Fixture) Raw(storeKey string, key []byte) []byte {
	for _, k := range f.keys {
		if k.Name() == storeKey {
			return f.Ctx.KVStore(k).Get(key)
		}
	}
	f.tb.Fatalf("no store %q", storeKey)
	return nil
}

// Events returns the typed events of type T emitted since the event manager
// was last reset. ResetEvents resets it, and so does NextBlock before each
// EndBlocker: after NextBlock, Events sees the last EndBlocker's events and
// those of the messages sent since.
func Events[T proto.Message](tb testing.TB, f *Fixture) []T {
	tb.Helper()
	return idtest.Events[T](tb, f.Fixture)
}
