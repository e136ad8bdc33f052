package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity"
	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestDefaultGenesisValidates(t *testing.T) {
	f := idtest.NewFixture(t)
	require.NoError(t, types.DefaultGenesis().Validate(f.AddrCodec))
	gs := f.Export(t)
	require.Equal(t, types.DefaultGenesis(), gs)
}

// busyWorld is newWorld plus a reset, a second user of alice's account and
// changed params, so every kind of entry is in the state.
func busyWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	f := w.f
	w.setMaxDevices(t, 4)
	require.NoError(t, w.add(w.aliceAddr, "alice", w.laptop, w.tablet))
	_, err := f.Msg.ResetUser(f.Ctx, idtest.ResetMsg(w.aliceAddr, "alice", f.Seq(t, "alice"), w.newDev))
	require.NoError(t, err)
	require.NoError(t, w.add(w.aliceAddr, "alice", w.watch, w.newDev))
	require.NoError(t, w.register(w.aliceAddr, "alice2", w.spare))
	return w
}

func TestGenesisRoundTrip(t *testing.T) {
	w := busyWorld(t)
	exported := w.f.Export(t)
	require.NoError(t, exported.Validate(w.f.AddrCodec))
	require.Len(t, exported.Users, 3)
	require.Len(t, exported.Devices, 8)
	require.Len(t, exported.History, 7+1+1) // alice 7, bob 1, alice2 1
	require.EqualValues(t, 4, exported.Params.MaxDevicesPerUser)

	fresh := idtest.NewFixture(t)
	require.NoError(t, fresh.Keeper.InitGenesis(fresh.Ctx, exported))
	require.Equal(t, exported, fresh.Export(t))
	require.Equal(t, w.f.Snapshot(t), fresh.Snapshot(t), "import must rebuild the indexes exactly")

	// The rebuilt indexes are used: keys stay taken, owners find their users.
	_, err := fresh.Msg.RegisterUser(fresh.Ctx, idtest.RegisterMsg(w.malAddr, "mallory", idtest.Device{ID: "x", Priv: w.phone.Priv}))
	require.ErrorIs(t, err, types.ErrPubKeyInUse)
	res, err := fresh.Query.UsersByOwner(fresh.Ctx, &types.QueryUsersByOwnerRequest{Owner: w.aliceAddr})
	require.NoError(t, err)
	require.Len(t, res.Users, 2)

	// And the imported chain keeps going where it stopped.
	other := idtest.NewDevice("pc", "alice-pc")
	_, err = fresh.Msg.AddDevice(fresh.Ctx, idtest.AddDeviceMsg(w.aliceAddr, "alice", fresh.Seq(t, "alice"), other, w.watch))
	require.NoError(t, err)
}

// TestGenesisJSONRoundTrip goes through the module's JSON genesis, as a
// chain export and restart does.
func TestGenesisJSONRoundTrip(t *testing.T) {
	w := busyWorld(t)
	am := identity.NewAppModule(w.f.Keeper, w.f.AddrCodec)
	bz := am.ExportGenesis(w.f.Ctx, w.f.Codec)
	require.NoError(t, am.ValidateGenesis(w.f.Codec, nil, bz))

	fresh := idtest.NewFixture(t)
	am2 := identity.NewAppModule(fresh.Keeper, fresh.AddrCodec)
	am2.InitGenesis(fresh.Ctx, fresh.Codec, bz)
	require.JSONEq(t, string(bz), string(am2.ExportGenesis(fresh.Ctx, fresh.Codec)))
	require.Equal(t, w.f.Export(t), fresh.Export(t))
}

func TestInitGenesisRejectsInvalid(t *testing.T) {
	w := busyWorld(t)
	gs := w.f.Export(t)
	gs.Devices = append(gs.Devices, gs.Devices[0])

	fresh := idtest.NewFixture(t)
	before := fresh.Snapshot(t)
	require.ErrorIs(t, fresh.Keeper.InitGenesis(fresh.Ctx, gs), types.ErrInvalidGenesis)
	require.Equal(t, before, fresh.Snapshot(t))

	am := identity.NewAppModule(fresh.Keeper, fresh.AddrCodec)
	require.ErrorIs(t, am.ValidateGenesis(fresh.Codec, nil, fresh.Codec.MustMarshalJSON(gs)), types.ErrInvalidGenesis)
	require.Error(t, am.ValidateGenesis(fresh.Codec, nil, []byte("{not json")))
}
