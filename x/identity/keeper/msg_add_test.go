package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestAddDeviceSuccess(t *testing.T) {
	w := newWorld(t)
	f := w.f
	seq := f.Seq(t, "alice")

	res, err := f.Msg.AddDevice(f.Ctx, idtest.AddDeviceMsg(w.aliceAddr, "alice", seq, w.laptop, w.tablet))
	require.NoError(t, err)
	require.Equal(t, seq, res.Seq)
	require.Equal(t, seq+1, f.Seq(t, "alice"))

	d, err := f.Keeper.Devices.Get(f.Ctx, pair("alice", "laptop"))
	require.NoError(t, err)
	require.Equal(t, types.Device{
		UserId: "alice", DeviceId: "laptop", Pubkey: w.laptop.Pub(), AddedBy: "tablet", AddedHeight: idtest.Height,
	}, d)

	e, err := f.Keeper.History.Get(f.Ctx, pairSeq("alice", seq))
	require.NoError(t, err)
	require.Equal(t, types.HistoryEntry{
		UserId: "alice", Seq: seq, Op: types.Op_OP_ADD, DeviceId: "laptop", Pubkey: w.laptop.Pub(),
		Approver: "tablet", Height: idtest.Height,
	}, e)

	holder, err := f.Keeper.PubKeys.Get(f.Ctx, w.laptop.Pub())
	require.NoError(t, err)
	require.Equal(t, "alice/laptop", holder)

	evs := idtest.Events[*types.EventDeviceAdded](t, f)
	require.Equal(t, []*types.EventDeviceAdded{{
		UserId: "alice", DeviceId: "laptop", Pubkey: w.laptop.Pub(), ApproverDeviceId: "tablet", Seq: seq,
	}}, evs)
	require.Len(t, f.Ctx.EventManager().Events(), 1)

	// The owner, created height and reset count do not move.
	u, err := f.Keeper.Users.Get(f.Ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, types.User{UserId: "alice", Owner: w.aliceAddr, Seq: seq + 1, CreatedHeight: idtest.Height}, u)
}

// TestAddDeviceRevokedDoNotCount checks that the device limit counts active
// devices only: alice has two active and one revoked device.
func TestAddDeviceRevokedDoNotCount(t *testing.T) {
	w := newWorld(t)
	w.setMaxDevices(t, 3)
	require.NoError(t, w.add(w.aliceAddr, "alice", w.laptop, w.phone))
	require.ErrorIs(t, w.add(w.aliceAddr, "alice", w.watch, w.phone), types.ErrTooManyDevices)
}

func TestAddDeviceRejections(t *testing.T) {
	type build = func(t *testing.T, w *world) *types.MsgAddDevice
	// valid is a correctly signed request to add dev, approved by approver,
	// at alice's current seq.
	valid := func(w *world, dev, approver idtest.Device) *types.MsgAddDevice {
		return idtest.AddDeviceMsg(w.aliceAddr, "alice", w.seq("alice"), dev, approver)
	}
	laptop := func(mod func(w *world, m *types.MsgAddDevice)) build {
		return func(_ *testing.T, w *world) *types.MsgAddDevice {
			m := valid(w, w.laptop, w.phone)
			mod(w, m)
			return m
		}
	}

	cases := []struct {
		name  string
		build build
		want  error
	}{
		{"user_id invalid", laptop(func(_ *world, m *types.MsgAddDevice) { m.UserId = "Alice" }), types.ErrInvalidUserID},
		{"device_id invalid", laptop(func(_ *world, m *types.MsgAddDevice) { m.DeviceId = "lap top" }), types.ErrInvalidDeviceID},
		{"pubkey invalid", laptop(func(_ *world, m *types.MsgAddDevice) { m.Pubkey = make([]byte, 32) }), types.ErrInvalidPubKey},
		{"pubkey short", laptop(func(_ *world, m *types.MsgAddDevice) { m.Pubkey = m.Pubkey[:16] }), types.ErrInvalidPubKey},
		{"approver_device_id invalid", laptop(func(_ *world, m *types.MsgAddDevice) { m.ApproverDeviceId = "Phone" }), types.ErrInvalidDeviceID},
		{"approver_device_id empty", laptop(func(_ *world, m *types.MsgAddDevice) { m.ApproverDeviceId = "" }), types.ErrInvalidDeviceID},
		{"owner invalid", laptop(func(_ *world, m *types.MsgAddDevice) { m.Owner = "parley1nope" }), types.ErrInvalidAddress},
		{"unknown user", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return idtest.AddDeviceMsg(w.aliceAddr, "carol", 0, w.laptop, w.phone)
		}, types.ErrUserNotFound},
		{"not owner", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return idtest.AddDeviceMsg(w.bobAddr, "alice", w.seq("alice"), w.laptop, w.phone)
		}, types.ErrNotOwner},
		{"not owner, owner of another user", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return idtest.AddDeviceMsg(w.bobAddr, "alice", w.seq("alice"), w.laptop, w.desk)
		}, types.ErrNotOwner},
		{"device_id of an active device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, idtest.NewDevice("tablet", "fresh"), w.phone)
		}, types.ErrDeviceExists},
		{"device_id of a revoked device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, idtest.NewDevice("old", "fresh"), w.phone)
		}, types.ErrDeviceExists},
		{"exact replay of a successful add", func(t *testing.T, w *world) *types.MsgAddDevice {
			m := valid(w, w.laptop, w.phone)
			_, err := w.f.Msg.AddDevice(w.f.Ctx, m)
			require.NoError(t, err)
			return m
		}, types.ErrDeviceExists},
		{"pubkey of another user's device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, idtest.Device{ID: "laptop", Priv: w.desk.Priv}, w.phone)
		}, types.ErrPubKeyInUse},
		{"pubkey of own revoked device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, idtest.Device{ID: "laptop", Priv: w.old.Priv}, w.phone)
		}, types.ErrPubKeyInUse},
		{"approval by a revoked device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, w.laptop, w.old)
		}, types.ErrDeviceRevoked},
		{"approval by a foreign device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, w.laptop, w.desk)
		}, types.ErrDeviceNotFound},
		{"approval by an unknown device", func(_ *testing.T, w *world) *types.MsgAddDevice {
			return valid(w, w.laptop, idtest.NewDevice("ghost", "ghost"))
		}, types.ErrDeviceNotFound},
		{"too many devices", func(t *testing.T, w *world) *types.MsgAddDevice {
			w.setMaxDevices(t, 2)
			return valid(w, w.laptop, w.phone)
		}, types.ErrTooManyDevices},
		{"approval over an old seq", func(t *testing.T, w *world) *types.MsgAddDevice {
			stale := valid(w, w.laptop, w.phone)
			require.NoError(t, w.add(w.aliceAddr, "alice", w.watch, w.phone))
			return stale
		}, types.ErrInvalidSignature},
		{"approval over an old seq, fresh pop", func(t *testing.T, w *world) *types.MsgAddDevice {
			stale := valid(w, w.laptop, w.phone)
			require.NoError(t, w.add(w.aliceAddr, "alice", w.watch, w.phone))
			stale.PopSig = valid(w, w.laptop, w.phone).PopSig
			return stale
		}, types.ErrInvalidSignature},
		{"pop over an old seq, fresh approval", func(t *testing.T, w *world) *types.MsgAddDevice {
			stale := valid(w, w.laptop, w.phone)
			require.NoError(t, w.add(w.aliceAddr, "alice", w.watch, w.phone))
			stale.ApproverSig = valid(w, w.laptop, w.phone).ApproverSig
			return stale
		}, types.ErrInvalidSignature},
		{"approval moved to another device", func(t *testing.T, w *world) *types.MsgAddDevice {
			m := valid(w, w.watch, w.phone)
			m.ApproverSig = valid(w, w.laptop, w.phone).ApproverSig
			return m
		}, types.ErrInvalidSignature},
		{"approval signed for another chain", laptop(func(w *world, m *types.MsgAddDevice) {
			m.ApproverSig = w.phone.Sign(types.ApproveSignBytes(otherChain, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey, m.ApproverDeviceId))
		}), types.ErrInvalidSignature},
		{"approval signed by another active device", laptop(func(w *world, m *types.MsgAddDevice) {
			m.ApproverSig = w.tablet.Sign(types.ApproveSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey, m.ApproverDeviceId))
		}), types.ErrInvalidSignature},
		{"approval naming another approver", laptop(func(w *world, m *types.MsgAddDevice) {
			m.ApproverSig = w.phone.Sign(types.ApproveSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey, "tablet"))
		}), types.ErrInvalidSignature},
		{"approval in the revoke domain", laptop(func(w *world, m *types.MsgAddDevice) {
			m.ApproverSig = w.phone.Sign(types.RevokeSignBytes(idtest.ChainID, m.UserId, w.seq("alice"), m.DeviceId, m.ApproverDeviceId))
		}), types.ErrInvalidSignature},
		{"approver_sig missing", laptop(func(_ *world, m *types.MsgAddDevice) { m.ApproverSig = nil }), types.ErrInvalidSignature},
		{"pop_sig missing", laptop(func(_ *world, m *types.MsgAddDevice) { m.PopSig = nil }), types.ErrInvalidSignature},
		{"pop_sig short", laptop(func(_ *world, m *types.MsgAddDevice) { m.PopSig = m.PopSig[:32] }), types.ErrInvalidSignature},
		{"pop_sig for another chain", laptop(func(w *world, m *types.MsgAddDevice) {
			m.PopSig = w.laptop.Sign(types.AddDevicePoPSignBytes(otherChain, m.Owner, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig for another owner", laptop(func(w *world, m *types.MsgAddDevice) {
			m.PopSig = w.laptop.Sign(types.AddDevicePoPSignBytes(idtest.ChainID, w.malAddr, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig by the approver", laptop(func(w *world, m *types.MsgAddDevice) {
			m.PopSig = w.phone.Sign(types.AddDevicePoPSignBytes(idtest.ChainID, m.Owner, m.UserId, w.seq("alice"), m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig in the register domain", laptop(func(w *world, m *types.MsgAddDevice) {
			m.PopSig = w.laptop.Sign(types.RegisterSignBytes(idtest.ChainID, m.Owner, m.UserId, m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			msg := prepare(t, w, tc.build)
			before := w.f.Snapshot(t)
			_, err := w.f.Msg.AddDevice(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
