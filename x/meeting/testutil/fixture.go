package testutil

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdktestutil "github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/parleynet/parley/x/identity"
	identitykeeper "github.com/parleynet/parley/x/identity/keeper"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting"
	"github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

const (
	// ChainID is the fixture's chain ID; every signature the helpers make
	// covers it.
	ChainID = "parley-test"
	// Height is the fixture's first block height.
	Height = 10
	// BlockInterval is how far NextBlock moves the block time per block.
	BlockInterval = 5 * time.Second
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = "parley"
)

// StartTime is the block time of the fixture's first block.
var StartTime = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Fixture is both keepers on one multistore, their servers and a context.
// Tests may replace Ctx (e.g. WithChainID) and must put it back.
type Fixture struct {
	Ctx       sdk.Context
	Codec     codec.Codec
	AddrCodec address.Codec
	// Authority may change the params of both modules.
	Authority string
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
	idKey := storetypes.NewKVStoreKey(identitytypes.StoreKey)
	mtKey := storetypes.NewKVStoreKey(types.StoreKey)
	ctx := sdktestutil.DefaultContextWithKeys(
		map[string]*storetypes.KVStoreKey{identitytypes.StoreKey: idKey, types.StoreKey: mtKey},
		map[string]*storetypes.TransientStoreKey{"transient_test": storetypes.NewTransientStoreKey("transient_test")},
		nil,
	)
	enc := moduletestutil.MakeTestEncodingConfig(identity.AppModule{}, meeting.AppModule{})
	ac := addresscodec.NewBech32Codec(Bech32Prefix)

	f := &Fixture{
		Ctx:       ctx.WithChainID(ChainID).WithBlockHeight(Height).WithBlockTime(StartTime),
		Codec:     enc.Codec,
		AddrCodec: ac,
		Authority: addr(tb, ac, 0xAA),
		Owner:     addr(tb, ac, 0x01),
		tb:        tb,
		keys:      []*storetypes.KVStoreKey{idKey, mtKey},
	}
	f.Identity = identitykeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(idKey), ac, f.Authority)
	f.Keeper = keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(mtKey), f.Identity, f.Authority)
	f.Identity.SetHooks(identitytypes.MultiIdentityHooks{f.Keeper.Hooks()})
	f.IdentityMsg = identitykeeper.NewMsgServerImpl(f.Identity)
	f.IdentityQuery = identitykeeper.NewQueryServerImpl(f.Identity)
	f.Msg = keeper.NewMsgServerImpl(f.Keeper)
	f.Query = keeper.NewQueryServerImpl(f.Keeper)
	require.NoError(tb, f.Identity.InitGenesis(f.Ctx, identitytypes.DefaultGenesis()))
	require.NoError(tb, f.Keeper.InitGenesis(f.Ctx, types.DefaultGenesis()))
	return f
}

func addr(tb testing.TB, ac address.Codec, b byte) string {
	tb.Helper()
	bz := make([]byte, 20)
	for i := range bz {
		bz[i] = b
	}
	s, err := ac.BytesToString(sdk.AccAddress(bz))
	require.NoError(tb, err)
	return s
}

// DeviceKey is the deterministic Ed25519 key of user/device, the one
// RegisterUser and AddDevice register.
func DeviceKey(user, device string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("parley/test/meeting-device/" + user + "/" + device))
	return ed25519.NewKeyFromSeed(s[:])
}

func pub(k ed25519.PrivateKey) []byte { return []byte(k.Public().(ed25519.PublicKey)) }

// RegisterUser registers user, owned by f.Owner, with its first device and
// returns that device's key.
func (f *Fixture) RegisterUser(tb testing.TB, user, device string) ed25519.PrivateKey {
	tb.Helper()
	key := DeviceKey(user, device)
	_, err := f.IdentityMsg.RegisterUser(f.Ctx, &identitytypes.MsgRegisterUser{
		Owner: f.Owner, UserId: user, DeviceId: device, Pubkey: pub(key),
		PopSig: ed25519.Sign(key, identitytypes.RegisterSignBytes(f.Ctx.ChainID(), f.Owner, user, device, pub(key))),
	})
	require.NoError(tb, err)
	return key
}

// AddDevice adds newDevice to user, approved by the active device whose key
// is approverKey, and returns the new device's key.
func (f *Fixture) AddDevice(tb testing.TB, user, newDevice string, approverKey ed25519.PrivateKey) ed25519.PrivateKey {
	tb.Helper()
	holder, err := f.Identity.PubKeys.Get(f.Ctx, pub(approverKey))
	require.NoError(tb, err, "approverKey is not a registered device key")
	approver, ok := strings.CutPrefix(holder, user+"/")
	require.Truef(tb, ok, "approverKey belongs to %s, not to a device of %s", holder, user)
	seq := f.seq(tb, user)
	key := DeviceKey(user, newDevice)
	chainID := f.Ctx.ChainID()
	_, err = f.IdentityMsg.AddDevice(f.Ctx, &identitytypes.MsgAddDevice{
		Owner: f.Owner, UserId: user, DeviceId: newDevice, Pubkey: pub(key),
		PopSig:           ed25519.Sign(key, identitytypes.AddDevicePoPSignBytes(chainID, f.Owner, user, seq, newDevice, pub(key))),
		ApproverDeviceId: approver,
		ApproverSig:      ed25519.Sign(approverKey, identitytypes.ApproveSignBytes(chainID, user, seq, newDevice, pub(key), approver)),
	})
	require.NoError(tb, err)
	return key
}

// RevokeDevice revokes user/device through x/identity's MsgRevokeDevice,
// signed by signerDevice; x/identity then calls x/meeting's hook.
func (f *Fixture) RevokeDevice(tb testing.TB, user, device, signerDevice string, signerKey ed25519.PrivateKey) {
	tb.Helper()
	seq := f.seq(tb, user)
	_, err := f.IdentityMsg.RevokeDevice(f.Ctx, &identitytypes.MsgRevokeDevice{
		Owner: f.Owner, UserId: user, DeviceId: device, SignerDeviceId: signerDevice,
		Sig: ed25519.Sign(signerKey, identitytypes.RevokeSignBytes(f.Ctx.ChainID(), user, seq, device, signerDevice)),
	})
	require.NoError(tb, err)
}

func (f *Fixture) seq(tb testing.TB, user string) uint64 {
	tb.Helper()
	u, err := f.Identity.Users.Get(f.Ctx, user)
	require.NoError(tb, err)
	return u.Seq
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

// ResetEvents gives the context a fresh event manager.
func (f *Fixture) ResetEvents() { f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager()) }

// Events returns the typed events of type T emitted since the event manager
// was last reset. ResetEvents resets it, and so does NextBlock before each
// EndBlocker: after NextBlock, Events sees the last EndBlocker's events and
// those of the messages sent since.
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
