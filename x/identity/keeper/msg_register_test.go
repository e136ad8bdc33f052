package keeper_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestRegisterUserSuccess(t *testing.T) {
	w := newWorld(t)
	f := w.f
	carol := idtest.NewDevice("pc", "carol-pc")
	carolAddr := f.Addr(t, 0x04)

	res, err := f.Msg.RegisterUser(f.Ctx, idtest.RegisterMsg(carolAddr, "carol", carol))
	require.NoError(t, err)
	require.NotNil(t, res)

	u, err := f.Keeper.Users.Get(f.Ctx, "carol")
	require.NoError(t, err)
	require.Equal(t, types.User{UserId: "carol", Owner: carolAddr, Seq: 1, CreatedHeight: idtest.Height}, u)

	d, err := f.Keeper.Devices.Get(f.Ctx, pair("carol", "pc"))
	require.NoError(t, err)
	require.Equal(t, types.Device{UserId: "carol", DeviceId: "pc", Pubkey: carol.Pub(), AddedHeight: idtest.Height}, d)

	e, err := f.Keeper.History.Get(f.Ctx, pairSeq("carol", 0))
	require.NoError(t, err)
	require.Equal(t, types.HistoryEntry{
		UserId: "carol", Seq: 0, Op: types.Op_OP_REGISTER, DeviceId: "pc", Pubkey: carol.Pub(), Height: idtest.Height,
	}, e)

	holder, err := f.Keeper.PubKeys.Get(f.Ctx, carol.Pub())
	require.NoError(t, err)
	require.Equal(t, "carol/pc", holder)

	byOwner, err := f.Query.UsersByOwner(f.Ctx, &types.QueryUsersByOwnerRequest{Owner: carolAddr})
	require.NoError(t, err)
	require.Equal(t, []types.User{u}, byOwner.Users)

	evs := idtest.Events[*types.EventUserRegistered](t, f)
	require.Len(t, evs, 1)
	require.Equal(t, &types.EventUserRegistered{
		UserId: "carol", Owner: carolAddr, DeviceId: "pc", Pubkey: carol.Pub(), Seq: 0,
	}, evs[0])
	require.Len(t, f.Ctx.EventManager().Events(), 1, "one event per state change")
	require.Empty(t, f.Hooks.Calls)
}

// TestRegisterUserClonesPubkey checks that the stored key does not alias the
// message's buffer, which the caller may reuse.
func TestRegisterUserClonesPubkey(t *testing.T) {
	f := idtest.NewFixture(t)
	dev := idtest.NewDevice("pc", "clone")
	msg := idtest.RegisterMsg(f.Addr(t, 1), "carol", dev)
	_, err := f.Msg.RegisterUser(f.Ctx, msg)
	require.NoError(t, err)
	for i := range msg.Pubkey {
		msg.Pubkey[i] = 0
	}
	d, err := f.Keeper.Devices.Get(f.Ctx, pair("carol", "pc"))
	require.NoError(t, err)
	require.Equal(t, dev.Pub(), d.Pubkey)
}

func TestRegisterUserRejections(t *testing.T) {
	zero32 := make([]byte, 32)
	identity := append([]byte{1}, make([]byte, 31)...)
	notAPoint := append([]byte{2}, make([]byte, 31)...)

	cases := []struct {
		name  string
		build func(t *testing.T, w *world) *types.MsgRegisterUser
		want  error
	}{
		{"user_id too short", regWithID("ab", "pc"), types.ErrInvalidUserID},
		{"user_id empty", regWithID("", "pc"), types.ErrInvalidUserID},
		{"user_id uppercase", regWithID("Carol", "pc"), types.ErrInvalidUserID},
		{"user_id leading dot", regWithID(".carol", "pc"), types.ErrInvalidUserID},
		{"user_id leading dash", regWithID("-carol", "pc"), types.ErrInvalidUserID},
		{"user_id too long", regWithID(strings.Repeat("c", 33), "pc"), types.ErrInvalidUserID},
		{"user_id with slash", regWithID("car/ol", "pc"), types.ErrInvalidUserID},
		{"user_id with space", regWithID("car ol", "pc"), types.ErrInvalidUserID},
		{"device_id empty", regWithID("carol", ""), types.ErrInvalidDeviceID},
		{"device_id uppercase", regWithID("carol", "PC"), types.ErrInvalidDeviceID},
		{"device_id too long", regWithID("carol", strings.Repeat("d", 33)), types.ErrInvalidDeviceID},
		{"device_id with slash", regWithID("carol", "p/c"), types.ErrInvalidDeviceID},
		{"pubkey empty", regWithKey(nil), types.ErrInvalidPubKey},
		{"pubkey 31 bytes", regWithKey(make([]byte, 31)), types.ErrInvalidPubKey},
		{"pubkey 33 bytes", regWithKey(append(idtest.NewDevice("x", "x").Pub(), 0)), types.ErrInvalidPubKey},
		{"pubkey not a point", regWithKey(notAPoint), types.ErrInvalidPubKey},
		{"pubkey small order zero bytes", regWithKey(zero32), types.ErrInvalidPubKey},
		{"pubkey identity point", regWithKey(identity), types.ErrInvalidPubKey},
		{"pop_sig missing", regWithSig(func(_ idtest.Device, _ *types.MsgRegisterUser) []byte { return nil }), types.ErrInvalidSignature},
		{"pop_sig short", regWithSig(func(_ idtest.Device, m *types.MsgRegisterUser) []byte { return m.PopSig[:63] }), types.ErrInvalidSignature},
		{"pop_sig long", regWithSig(func(_ idtest.Device, m *types.MsgRegisterUser) []byte { return append(m.PopSig, 0) }), types.ErrInvalidSignature},
		{"pop_sig flipped bit", regWithSig(func(_ idtest.Device, m *types.MsgRegisterUser) []byte {
			s := bytes.Clone(m.PopSig)
			s[10] ^= 1
			return s
		}), types.ErrInvalidSignature},
		{"pop_sig over other chain", regWithSig(func(d idtest.Device, m *types.MsgRegisterUser) []byte {
			return d.Sign(types.RegisterSignBytes(otherChain, m.Owner, m.UserId, m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig for another owner", func(t *testing.T, w *world) *types.MsgRegisterUser {
			dev := idtest.NewDevice("pc", "carol-pc")
			m := idtest.RegisterMsg(w.malAddr, "carol", dev)
			m.Owner = w.f.Addr(t, 0x04)
			return m
		}, types.ErrInvalidSignature},
		{"pop_sig for another user_id", regWithSig(func(d idtest.Device, m *types.MsgRegisterUser) []byte {
			return d.Sign(types.RegisterSignBytes(idtest.ChainID, m.Owner, "carol2", m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig for another device_id", regWithSig(func(d idtest.Device, m *types.MsgRegisterUser) []byte {
			return d.Sign(types.RegisterSignBytes(idtest.ChainID, m.Owner, m.UserId, "other", m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig by another key", regWithSig(func(_ idtest.Device, m *types.MsgRegisterUser) []byte {
			return idtest.NewDevice("x", "x").Sign(types.RegisterSignBytes(idtest.ChainID, m.Owner, m.UserId, m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"pop_sig in another domain", regWithSig(func(d idtest.Device, m *types.MsgRegisterUser) []byte {
			return d.Sign(types.ResetSignBytes(idtest.ChainID, m.Owner, m.UserId, 0, m.DeviceId, m.Pubkey))
		}), types.ErrInvalidSignature},
		{"user_id taken", func(t *testing.T, w *world) *types.MsgRegisterUser {
			return idtest.RegisterMsg(w.f.Addr(t, 0x04), "bob", idtest.NewDevice("pc", "carol-pc"))
		}, types.ErrUserExists},
		{"user_id taken by same owner", func(t *testing.T, w *world) *types.MsgRegisterUser {
			return idtest.RegisterMsg(w.bobAddr, "bob", idtest.NewDevice("pc", "carol-pc"))
		}, types.ErrUserExists},
		{"pubkey in use by another user", func(t *testing.T, w *world) *types.MsgRegisterUser {
			return idtest.RegisterMsg(w.f.Addr(t, 0x04), "carol", w.desk)
		}, types.ErrPubKeyInUse},
		{"pubkey of a revoked device", func(t *testing.T, w *world) *types.MsgRegisterUser {
			return idtest.RegisterMsg(w.aliceAddr, "alice2", w.old)
		}, types.ErrPubKeyInUse},
		{"owner empty", regWithOwner(""), types.ErrInvalidAddress},
		{"owner wrong prefix", regWithOwner("cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"), types.ErrInvalidAddress},
		{"owner bad checksum", func(t *testing.T, w *world) *types.MsgRegisterUser {
			a := w.f.Addr(t, 0x04)
			last := a[len(a)-1]
			swap := byte('q')
			if last == 'q' {
				swap = 'p'
			}
			return regWithOwner(a[:len(a)-1]+string(swap))(t, w)
		}, types.ErrInvalidAddress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			msg := prepare(t, w, tc.build)
			before := w.f.Snapshot(t)
			_, err := w.f.Msg.RegisterUser(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// regWithID is a correctly signed registration with the given IDs.
func regWithID(userID, deviceID string) func(*testing.T, *world) *types.MsgRegisterUser {
	return func(t *testing.T, w *world) *types.MsgRegisterUser {
		return idtest.RegisterMsg(w.f.Addr(t, 0x04), userID, idtest.NewDevice(deviceID, "carol-pc"))
	}
}

// regWithKey is a registration of carol/pc with pubkey key; nobody can sign
// for these keys, so the signature is left from another key.
func regWithKey(key []byte) func(*testing.T, *world) *types.MsgRegisterUser {
	return func(t *testing.T, w *world) *types.MsgRegisterUser {
		m := idtest.RegisterMsg(w.f.Addr(t, 0x04), "carol", idtest.NewDevice("pc", "carol-pc"))
		m.Pubkey = key
		return m
	}
}

func regWithSig(sig func(idtest.Device, *types.MsgRegisterUser) []byte) func(*testing.T, *world) *types.MsgRegisterUser {
	return func(t *testing.T, w *world) *types.MsgRegisterUser {
		dev := idtest.NewDevice("pc", "carol-pc")
		m := idtest.RegisterMsg(w.f.Addr(t, 0x04), "carol", dev)
		m.PopSig = sig(dev, m)
		return m
	}
}

func regWithOwner(owner string) func(*testing.T, *world) *types.MsgRegisterUser {
	return func(_ *testing.T, _ *world) *types.MsgRegisterUser {
		return idtest.RegisterMsg(owner, "carol", idtest.NewDevice("pc", "carol-pc"))
	}
}
