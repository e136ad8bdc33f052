package keeper_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestRevokeDeviceSuccess(t *testing.T) {
	cases := []struct {
		name           string
		target, signer func(w *world) idtest.Device
	}{
		{"by another device", func(w *world) idtest.Device { return w.tablet }, func(w *world) idtest.Device { return w.phone }},
		{"by itself", func(w *world) idtest.Device { return w.tablet }, func(w *world) idtest.Device { return w.tablet }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			f := w.f
			f.Ctx = f.Ctx.WithBlockHeight(idtest.Height + 5)
			target, signer := tc.target(w), tc.signer(w)
			seq := f.Seq(t, "alice")

			res, err := f.Msg.RevokeDevice(f.Ctx, idtest.RevokeMsg(w.aliceAddr, "alice", seq, target.ID, signer))
			require.NoError(t, err)
			require.Equal(t, seq, res.Seq)
			require.Equal(t, seq+1, f.Seq(t, "alice"))

			d, err := f.Keeper.Devices.Get(f.Ctx, pair("alice", target.ID))
			require.NoError(t, err)
			require.Equal(t, types.Device{
				UserId: "alice", DeviceId: target.ID, Pubkey: target.Pub(), AddedBy: "phone",
				AddedHeight: idtest.Height, RevokedHeight: idtest.Height + 5,
			}, d)

			e, err := f.Keeper.History.Get(f.Ctx, pairSeq("alice", seq))
			require.NoError(t, err)
			require.Equal(t, types.HistoryEntry{
				UserId: "alice", Seq: seq, Op: types.Op_OP_REVOKE, DeviceId: target.ID, Pubkey: target.Pub(),
				Approver: signer.ID, Height: idtest.Height + 5,
			}, e)

			require.Equal(t, []*types.EventDeviceRevoked{{
				UserId: "alice", DeviceId: target.ID, SignerDeviceId: signer.ID, Seq: seq,
			}}, idtest.Events[*types.EventDeviceRevoked](t, f))
			require.Len(t, f.Ctx.EventManager().Events(), 1)
			require.Equal(t, []idtest.HookCall{{UserID: "alice", DeviceID: target.ID}}, f.Hooks.Calls)

			_, err = f.Keeper.ActiveDevice(f.Ctx, "alice", target.ID)
			require.ErrorIs(t, err, types.ErrDeviceRevoked)
			// The key stays bound to the revoked device for ever.
			holder, err := f.Keeper.PubKeys.Get(f.Ctx, target.Pub())
			require.NoError(t, err)
			require.Equal(t, "alice/"+target.ID, holder)
		})
	}
}

// TestRevokeDeviceHookError checks that a hook's error fails the message, so
// the transaction (here a cache context that is not written) is reverted.
func TestRevokeDeviceHookError(t *testing.T) {
	w := newWorld(t)
	boom := errors.New("boom")
	w.f.Hooks.Err = boom
	before := w.f.Snapshot(t)
	cctx, _ := w.f.Ctx.CacheContext()
	_, err := w.f.Msg.RevokeDevice(cctx, idtest.RevokeMsg(w.aliceAddr, "alice", w.seq("alice"), "tablet", w.phone))
	require.ErrorIs(t, err, boom)
	require.Equal(t, before, w.f.Snapshot(t))
}

func TestRevokeDeviceRejections(t *testing.T) {
	type build = func(t *testing.T, w *world) *types.MsgRevokeDevice
	// tablet is a correctly signed revocation of alice/tablet by phone, then
	// changed by mod.
	tablet := func(mod func(w *world, m *types.MsgRevokeDevice)) build {
		return func(_ *testing.T, w *world) *types.MsgRevokeDevice {
			m := idtest.RevokeMsg(w.aliceAddr, "alice", w.seq("alice"), "tablet", w.phone)
			mod(w, m)
			return m
		}
	}
	by := func(target string, signer func(w *world) idtest.Device) build {
		return func(_ *testing.T, w *world) *types.MsgRevokeDevice {
			return idtest.RevokeMsg(w.aliceAddr, "alice", w.seq("alice"), target, signer(w))
		}
	}

	cases := []struct {
		name  string
		build build
		want  error
	}{
		{"user_id invalid", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.UserId = "a" }), types.ErrInvalidUserID},
		{"device_id invalid", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.DeviceId = "" }), types.ErrInvalidDeviceID},
		{"signer_device_id invalid", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.SignerDeviceId = "PHONE" }), types.ErrInvalidDeviceID},
		{"owner invalid", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.Owner = "" }), types.ErrInvalidAddress},
		{"unknown user", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.UserId = "carol" }), types.ErrUserNotFound},
		{"not owner", tablet(func(w *world, m *types.MsgRevokeDevice) { m.Owner = w.bobAddr }), types.ErrNotOwner},
		{"unknown target", by("ghost", func(w *world) idtest.Device { return w.phone }), types.ErrDeviceNotFound},
		{"target of another user", by("desk", func(w *world) idtest.Device { return w.phone }), types.ErrDeviceNotFound},
		{"target already revoked", by("old", func(w *world) idtest.Device { return w.phone }), types.ErrDeviceRevoked},
		{"signer revoked", by("tablet", func(w *world) idtest.Device { return w.old }), types.ErrDeviceRevoked},
		{"signer of another user", by("tablet", func(w *world) idtest.Device { return w.desk }), types.ErrDeviceNotFound},
		{"signer unknown", by("tablet", func(_ *world) idtest.Device { return idtest.NewDevice("ghost", "ghost") }), types.ErrDeviceNotFound},
		{"last active device", func(t *testing.T, w *world) *types.MsgRevokeDevice {
			require.NoError(t, w.revoke(w.aliceAddr, "alice", "tablet", w.phone))
			return idtest.RevokeMsg(w.aliceAddr, "alice", w.seq("alice"), "phone", w.phone)
		}, types.ErrLastDevice},
		{"last active device of a one-device user", func(_ *testing.T, w *world) *types.MsgRevokeDevice {
			return idtest.RevokeMsg(w.bobAddr, "bob", w.seq("bob"), "desk", w.desk)
		}, types.ErrLastDevice},
		{"sig over another chain", tablet(func(w *world, m *types.MsgRevokeDevice) {
			m.Sig = w.phone.Sign(types.RevokeSignBytes(otherChain, m.UserId, w.seq("alice"), m.DeviceId, m.SignerDeviceId))
		}), types.ErrInvalidSignature},
		{"sig over an old seq", func(t *testing.T, w *world) *types.MsgRevokeDevice {
			stale := idtest.RevokeMsg(w.aliceAddr, "alice", w.seq("alice"), "tablet", w.phone)
			require.NoError(t, w.add(w.aliceAddr, "alice", w.laptop, w.phone))
			return stale
		}, types.ErrInvalidSignature},
		{"sig by another active device", tablet(func(w *world, m *types.MsgRevokeDevice) {
			m.Sig = w.tablet.Sign(types.RevokeSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), m.DeviceId, m.SignerDeviceId))
		}), types.ErrInvalidSignature},
		{"sig for another target", tablet(func(w *world, m *types.MsgRevokeDevice) {
			m.Sig = w.phone.Sign(types.RevokeSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), "phone", m.SignerDeviceId))
		}), types.ErrInvalidSignature},
		{"sig in the approve domain", tablet(func(w *world, m *types.MsgRevokeDevice) {
			m.Sig = w.phone.Sign(types.ApproveSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), m.DeviceId, nil, m.SignerDeviceId))
		}), types.ErrInvalidSignature},
		{"sig missing", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.Sig = nil }), types.ErrInvalidSignature},
		{"sig truncated", tablet(func(_ *world, m *types.MsgRevokeDevice) { m.Sig = m.Sig[:63] }), types.ErrInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			msg := prepare(t, w, tc.build)
			before := w.f.Snapshot(t)
			_, err := w.f.Msg.RevokeDevice(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
