package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/parleynet/parley/x/identity/types"
)

var ac = addresscodec.NewBech32Codec("parley")

func addr(t *testing.T, b byte) string {
	t.Helper()
	bz := make([]byte, 20)
	for i := range bz {
		bz[i] = b
	}
	s, err := ac.BytesToString(bz)
	require.NoError(t, err)
	return s
}

// validGenesis: alice (phone, tablet; seq 2) and bob (desk; seq 1).
func validGenesis(t *testing.T) *types.GenesisState {
	t.Helper()
	return &types.GenesisState{
		Params: types.DefaultParams(),
		Users: []types.User{
			{UserId: "alice", Owner: addr(t, 1), Seq: 2, CreatedHeight: 1},
			{UserId: "bob", Owner: addr(t, 2), Seq: 1, CreatedHeight: 1},
		},
		Devices: []types.Device{
			{UserId: "alice", DeviceId: "phone", Pubkey: testPub("phone"), AddedHeight: 1},
			{UserId: "alice", DeviceId: "tablet", Pubkey: testPub("tablet"), AddedBy: "phone", AddedHeight: 1},
			{UserId: "bob", DeviceId: "desk", Pubkey: testPub("desk"), AddedHeight: 1},
		},
		History: []types.HistoryEntry{
			{UserId: "alice", Seq: 0, Op: types.Op_OP_REGISTER, DeviceId: "phone", Pubkey: testPub("phone"), Height: 1},
			{UserId: "alice", Seq: 1, Op: types.Op_OP_ADD, DeviceId: "tablet", Pubkey: testPub("tablet"), Approver: "phone", Height: 1},
			{UserId: "bob", Seq: 0, Op: types.Op_OP_REGISTER, DeviceId: "desk", Pubkey: testPub("desk"), Height: 1},
		},
	}
}

func TestGenesisValidateAccepts(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate(ac))
	require.Equal(t, types.DefaultParams(), types.DefaultGenesis().Params)
	require.NoError(t, validGenesis(t).Validate(ac))

	// History in any order is fine; only the set of seqs matters.
	gs := validGenesis(t)
	gs.History[0], gs.History[1] = gs.History[1], gs.History[0]
	require.NoError(t, gs.Validate(ac))

	// A user with seq 0 and no history (not produced by messages) is
	// consistent.
	gs = validGenesis(t)
	gs.Users = append(gs.Users, types.User{UserId: "carol", Owner: addr(t, 3)})
	require.NoError(t, gs.Validate(ac))
}

func TestGenesisValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(t *testing.T, gs *types.GenesisState)
		want error
	}{
		{"invalid params zero", func(_ *testing.T, gs *types.GenesisState) { gs.Params.MaxDevicesPerUser = 0 }, types.ErrInvalidParams},
		{"invalid params too many", func(_ *testing.T, gs *types.GenesisState) { gs.Params.MaxDevicesPerUser = 1001 }, types.ErrInvalidParams},
		{"invalid user id", func(_ *testing.T, gs *types.GenesisState) { gs.Users[0].UserId = "Al" }, types.ErrInvalidGenesis},
		{"bad owner address", func(_ *testing.T, gs *types.GenesisState) { gs.Users[1].Owner = "parley1bad" }, types.ErrInvalidGenesis},
		{"owner with another prefix", func(_ *testing.T, gs *types.GenesisState) {
			gs.Users[1].Owner = "cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"
		}, types.ErrInvalidGenesis},
		{"empty owner", func(_ *testing.T, gs *types.GenesisState) { gs.Users[1].Owner = "" }, types.ErrInvalidGenesis},
		{"duplicate user", func(_ *testing.T, gs *types.GenesisState) { gs.Users = append(gs.Users, gs.Users[0]) }, types.ErrInvalidGenesis},
		{"duplicate user, other owner", func(t *testing.T, gs *types.GenesisState) {
			u := gs.Users[1]
			u.Owner = addr(t, 9)
			gs.Users = append(gs.Users, u)
		}, types.ErrInvalidGenesis},
		{"device of unknown user", func(_ *testing.T, gs *types.GenesisState) {
			gs.Devices = append(gs.Devices, types.Device{UserId: "carol", DeviceId: "pc", Pubkey: testPub("carol")})
		}, types.ErrInvalidGenesis},
		{"invalid device id", func(_ *testing.T, gs *types.GenesisState) { gs.Devices[2].DeviceId = "De sk" }, types.ErrInvalidGenesis},
		{"invalid device pubkey", func(_ *testing.T, gs *types.GenesisState) { gs.Devices[2].Pubkey = make([]byte, 32) }, types.ErrInvalidGenesis},
		{"short device pubkey", func(_ *testing.T, gs *types.GenesisState) { gs.Devices[2].Pubkey = gs.Devices[2].Pubkey[:31] }, types.ErrInvalidGenesis},
		{"duplicate device", func(_ *testing.T, gs *types.GenesisState) {
			d := gs.Devices[0]
			d.Pubkey = testPub("another")
			gs.Devices = append(gs.Devices, d)
		}, types.ErrInvalidGenesis},
		{"duplicate pubkey within a user", func(_ *testing.T, gs *types.GenesisState) { gs.Devices[1].Pubkey = testPub("phone") }, types.ErrInvalidGenesis},
		{"duplicate pubkey across users", func(_ *testing.T, gs *types.GenesisState) { gs.Devices[2].Pubkey = testPub("phone") }, types.ErrInvalidGenesis},
		{"history of unknown user", func(_ *testing.T, gs *types.GenesisState) {
			gs.History = append(gs.History, types.HistoryEntry{UserId: "carol", Seq: 0, Op: types.Op_OP_REGISTER})
		}, types.ErrInvalidGenesis},
		{"duplicate history seq", func(_ *testing.T, gs *types.GenesisState) { gs.History[1].Seq = 0 }, types.ErrInvalidGenesis},
		{"history seq not below user seq", func(_ *testing.T, gs *types.GenesisState) { gs.History[1].Seq = 2 }, types.ErrInvalidGenesis},
		{"user seq above history count", func(_ *testing.T, gs *types.GenesisState) { gs.Users[0].Seq = 3 }, types.ErrInvalidGenesis},
		{"user seq below history count", func(_ *testing.T, gs *types.GenesisState) { gs.Users[1].Seq = 0 }, types.ErrInvalidGenesis},
		{"missing history entry", func(_ *testing.T, gs *types.GenesisState) { gs.History = gs.History[1:] }, types.ErrInvalidGenesis},
		{"op unspecified", func(_ *testing.T, gs *types.GenesisState) { gs.History[2].Op = types.Op_OP_UNSPECIFIED }, types.ErrInvalidGenesis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis(t)
			tc.mod(t, gs)
			require.ErrorIs(t, gs.Validate(ac), tc.want)
		})
	}
}

func TestParamsValidate(t *testing.T) {
	for _, n := range []uint32{1, types.DefaultMaxDevicesPerUser, 1000} {
		require.NoError(t, types.Params{MaxDevicesPerUser: n}.Validate(), n)
	}
	for _, n := range []uint32{0, 1001, ^uint32(0)} {
		require.ErrorIs(t, types.Params{MaxDevicesPerUser: n}.Validate(), types.ErrInvalidParams, n)
	}
}
