package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestResetUserSuccess(t *testing.T) {
	w := newWorld(t)
	f := w.f
	f.Ctx = f.Ctx.WithBlockHeight(idtest.Height + 7)
	seq := f.Seq(t, "alice")
	bobBefore := f.Export(t)

	res, err := f.Msg.ResetUser(f.Ctx, idtest.ResetMsg(w.aliceAddr, "alice", seq, w.newDev))
	require.NoError(t, err)
	require.Equal(t, &types.MsgResetUserResponse{Seq: seq, ResetCount: 1}, res)

	u, err := f.Keeper.Users.Get(f.Ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, types.User{UserId: "alice", Owner: w.aliceAddr, Seq: seq + 1, CreatedHeight: idtest.Height, ResetCount: 1}, u)

	active, err := f.Keeper.ActiveDevices(f.Ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []types.Device{{
		UserId: "alice", DeviceId: "new-phone", Pubkey: w.newDev.Pub(), AddedHeight: idtest.Height + 7,
	}}, active)
	for _, id := range []string{"phone", "tablet"} {
		d, err := f.Keeper.Devices.Get(f.Ctx, pair("alice", id))
		require.NoError(t, err)
		require.Equal(t, int64(idtest.Height+7), d.RevokedHeight, id)
	}
	old, err := f.Keeper.Devices.Get(f.Ctx, pair("alice", "old"))
	require.NoError(t, err)
	require.Equal(t, int64(idtest.Height), old.RevokedHeight, "an earlier revocation keeps its height")

	e, err := f.Keeper.History.Get(f.Ctx, pairSeq("alice", seq))
	require.NoError(t, err)
	require.Equal(t, types.HistoryEntry{
		UserId: "alice", Seq: seq, Op: types.Op_OP_RESET, DeviceId: "new-phone", Pubkey: w.newDev.Pub(), Height: idtest.Height + 7,
	}, e)

	require.Equal(t, []*types.EventUserReset{{
		UserId: "alice", DeviceId: "new-phone", Pubkey: w.newDev.Pub(), ResetCount: 1,
		RevokedDeviceIds: []string{"phone", "tablet"}, Seq: seq,
	}}, idtest.Events[*types.EventUserReset](t, f))
	require.Equal(t, []*types.EventDeviceRevoked{
		{UserId: "alice", DeviceId: "phone", Seq: seq},
		{UserId: "alice", DeviceId: "tablet", Seq: seq},
	}, idtest.Events[*types.EventDeviceRevoked](t, f))
	require.Equal(t, []idtest.HookCall{{UserID: "alice", DeviceID: "phone"}, {UserID: "alice", DeviceID: "tablet"}}, f.Hooks.Calls)

	// Bob is untouched.
	after := f.Export(t)
	require.Equal(t, userEntries(bobBefore, "bob"), userEntries(after, "bob"))

	// The new device works: it approves another, and a second reset counts.
	require.NoError(t, w.add(w.aliceAddr, "alice", w.laptop, w.newDev))
	res, err = f.Msg.ResetUser(f.Ctx, idtest.ResetMsg(w.aliceAddr, "alice", f.Seq(t, "alice"), w.spare))
	require.NoError(t, err)
	require.EqualValues(t, 2, res.ResetCount)
	active, err = f.Keeper.ActiveDevices(f.Ctx, "alice")
	require.NoError(t, err)
	require.Len(t, active, 1)
	require.Equal(t, "spare", active[0].DeviceId)
}

// userEntries is the part of gs that belongs to userID.
func userEntries(gs *types.GenesisState, userID string) (out []any) {
	for _, u := range gs.Users {
		if u.UserId == userID {
			out = append(out, u)
		}
	}
	for _, d := range gs.Devices {
		if d.UserId == userID {
			out = append(out, d)
		}
	}
	for _, e := range gs.History {
		if e.UserId == userID {
			out = append(out, e)
		}
	}
	return out
}

func TestResetUserRejections(t *testing.T) {
	type build = func(t *testing.T, w *world) *types.MsgResetUser
	reset := func(mod func(w *world, m *types.MsgResetUser)) build {
		return func(_ *testing.T, w *world) *types.MsgResetUser {
			m := idtest.ResetMsg(w.aliceAddr, "alice", w.seq("alice"), w.newDev)
			mod(w, m)
			return m
		}
	}
	withDevice := func(dev func(w *world) idtest.Device) build {
		return func(_ *testing.T, w *world) *types.MsgResetUser {
			return idtest.ResetMsg(w.aliceAddr, "alice", w.seq("alice"), dev(w))
		}
	}

	cases := []struct {
		name  string
		build build
		want  error
	}{
		{"user_id invalid", reset(func(_ *world, m *types.MsgResetUser) { m.UserId = "_alice" }), types.ErrInvalidUserID},
		{"device_id invalid", reset(func(_ *world, m *types.MsgResetUser) { m.DeviceId = "new phone" }), types.ErrInvalidDeviceID},
		{"pubkey invalid", reset(func(_ *world, m *types.MsgResetUser) { m.Pubkey = make([]byte, 32) }), types.ErrInvalidPubKey},
		{"owner invalid", reset(func(_ *world, m *types.MsgResetUser) { m.Owner = "parley1" }), types.ErrInvalidAddress},
		{"unknown user", reset(func(_ *world, m *types.MsgResetUser) { m.UserId = "carol" }), types.ErrUserNotFound},
		{"not owner", func(_ *testing.T, w *world) *types.MsgResetUser {
			return idtest.ResetMsg(w.bobAddr, "alice", w.seq("alice"), w.newDev)
		}, types.ErrNotOwner},
		{"device_id of an active device", withDevice(func(_ *world) idtest.Device { return idtest.NewDevice("phone", "fresh") }), types.ErrDeviceExists},
		{"device_id of a revoked device", withDevice(func(_ *world) idtest.Device { return idtest.NewDevice("old", "fresh") }), types.ErrDeviceExists},
		{"pubkey of an active device", withDevice(func(w *world) idtest.Device { return idtest.Device{ID: "new-phone", Priv: w.phone.Priv} }), types.ErrPubKeyInUse},
		{"pubkey of a revoked device", withDevice(func(w *world) idtest.Device { return idtest.Device{ID: "new-phone", Priv: w.old.Priv} }), types.ErrPubKeyInUse},
		{"pubkey of another user", withDevice(func(w *world) idtest.Device { return idtest.Device{ID: "new-phone", Priv: w.desk.Priv} }), types.ErrPubKeyInUse},
		{"pop_sig missing", reset(func(_ *world, m *types.MsgResetUser) { m.PopSig = nil }), types.ErrInvalidSignature},
		{"pop_sig truncated", reset(func(_ *world, m *types.MsgResetUser) { m.PopSig = m.PopSig[1:] }), types.ErrInvalidSignature},
		{"pop_sig over another chain", reset(func(w *world, m *types.MsgResetUser) {
			m.PopSig = w.newDev.Sign(types.ResetSignBytes(otherChain, m.Owner, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig for another owner", reset(func(w *world, m *types.MsgResetUser) {
			m.PopSig = w.newDev.Sign(types.ResetSignBytes(idtest.ChainID, w.malAddr, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig over an old seq", func(t *testing.T, w *world) *types.MsgResetUser {
			stale := idtest.ResetMsg(w.aliceAddr, "alice", w.seq("alice"), w.newDev)
			require.NoError(t, w.add(w.aliceAddr, "alice", w.laptop, w.phone))
			return stale
		}, types.ErrInvalidSignature},
		{"pop_sig by an existing device", reset(func(w *world, m *types.MsgResetUser) {
			m.PopSig = w.phone.Sign(types.ResetSignBytes(idtest.ChainID, m.Owner, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig in the register domain", reset(func(w *world, m *types.MsgResetUser) {
			m.PopSig = w.newDev.Sign(types.RegisterSignBytes(idtest.ChainID, m.Owner, m.UserId, m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			msg := prepare(t, w, tc.build)
			before := w.f.Snapshot(t)
			_, err := w.f.Msg.ResetUser(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
