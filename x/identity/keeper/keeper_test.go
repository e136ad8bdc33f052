package keeper_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

const otherChain = "other-chain"

// world is the state most message tests start from:
//
//	alice (owned by aliceAddr): phone and tablet active, old revoked, seq 4
//	bob   (owned by bobAddr):   desk active, seq 1
type world struct {
	f                            *idtest.Fixture
	aliceAddr, bobAddr, malAddr  string
	phone, tablet, old, desk     idtest.Device
	laptop, watch, spare, newDev idtest.Device
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := idtest.NewFixture(t)
	w := &world{
		f:         f,
		aliceAddr: f.Addr(t, 0x01),
		bobAddr:   f.Addr(t, 0x02),
		malAddr:   f.Addr(t, 0x03),
		phone:     idtest.NewDevice("phone", "alice-phone"),
		tablet:    idtest.NewDevice("tablet", "alice-tablet"),
		old:       idtest.NewDevice("old", "alice-old"),
		desk:      idtest.NewDevice("desk", "bob-desk"),
		laptop:    idtest.NewDevice("laptop", "alice-laptop"),
		watch:     idtest.NewDevice("watch", "alice-watch"),
		spare:     idtest.NewDevice("spare", "spare"),
		newDev:    idtest.NewDevice("new-phone", "alice-new-phone"),
	}
	mustOK(t, w.register(w.aliceAddr, "alice", w.phone))
	mustOK(t, w.add(w.aliceAddr, "alice", w.tablet, w.phone))
	mustOK(t, w.add(w.aliceAddr, "alice", w.old, w.phone))
	mustOK(t, w.revoke(w.aliceAddr, "alice", w.old.ID, w.phone))
	mustOK(t, w.register(w.bobAddr, "bob", w.desk))
	require.EqualValues(t, 4, f.Seq(t, "alice"))
	require.EqualValues(t, 1, f.Seq(t, "bob"))
	f.Hooks.Calls = nil
	f.ResetEvents()
	return w
}

func (w *world) register(owner, userID string, dev idtest.Device) error {
	_, err := w.f.Msg.RegisterUser(w.f.Ctx, idtest.RegisterMsg(owner, userID, dev))
	return err
}

func (w *world) seq(userID string) uint64 {
	u, err := w.f.Keeper.Users.Get(w.f.Ctx, userID)
	if err != nil {
		return 0
	}
	return u.Seq
}

func (w *world) add(owner, userID string, dev, approver idtest.Device) error {
	_, err := w.f.Msg.AddDevice(w.f.Ctx, idtest.AddDeviceMsg(owner, userID, w.seq(userID), dev, approver))
	return err
}

func (w *world) revoke(owner, userID, deviceID string, signer idtest.Device) error {
	_, err := w.f.Msg.RevokeDevice(w.f.Ctx, idtest.RevokeMsg(owner, userID, w.seq(userID), deviceID, signer))
	return err
}

func (w *world) setMaxDevices(t *testing.T, n uint32) {
	t.Helper()
	_, err := w.f.Msg.UpdateParams(w.f.Ctx, &types.MsgUpdateParams{
		Authority: w.f.Authority, Params: types.Params{MaxDevicesPerUser: n},
	})
	require.NoError(t, err)
}

func pair(userID, deviceID string) collections.Pair[string, string] {
	return collections.Join(userID, deviceID)
}

func pairSeq(userID string, seq uint64) collections.Pair[string, uint64] {
	return collections.Join(userID, seq)
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}

// requireRejected checks that err is want and that nothing was written: no
// store entry (indexes included), no event, no hook call.
func requireRejected(t *testing.T, f *idtest.Fixture, before []idtest.KV, err, want error) {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, errors.Is(err, want), "want %v, got %v", want, err)
	require.Equal(t, before, f.Snapshot(t), "a rejected message changed the store")
	require.Empty(t, f.Ctx.EventManager().Events(), "a rejected message emitted events")
	require.Empty(t, f.Hooks.Calls, "a rejected message called hooks")
}

// prepare readies w for a rejection case: it runs setup (which may apply
// messages that succeed), then clears events and hook calls.
func prepare[M any](t *testing.T, w *world, build func(t *testing.T, w *world) M) M {
	t.Helper()
	msg := build(t, w)
	w.f.ResetEvents()
	w.f.Hooks.Calls = nil
	return msg
}

func TestWorldSetup(t *testing.T) {
	w := newWorld(t)
	active, err := w.f.Keeper.ActiveDevices(w.f.Ctx, "alice")
	require.NoError(t, err)
	ids := make([]string, 0, len(active))
	for _, d := range active {
		ids = append(ids, d.DeviceId)
	}
	require.Equal(t, []string{"phone", "tablet"}, ids)

	_, err = w.f.Keeper.ActiveDevice(w.f.Ctx, "alice", "old")
	require.ErrorIs(t, err, types.ErrDeviceRevoked)
	_, err = w.f.Keeper.ActiveDevice(w.f.Ctx, "alice", "desk")
	require.ErrorIs(t, err, types.ErrDeviceNotFound)
	d, err := w.f.Keeper.ActiveDevice(w.f.Ctx, "bob", "desk")
	require.NoError(t, err)
	require.Equal(t, w.desk.Pub(), d.Pubkey)
}

func TestSetHooksTwicePanics(t *testing.T) {
	f := idtest.NewFixture(t)
	require.Panics(t, func() { f.Keeper.SetHooks(&idtest.HookRecorder{}) })
}

func TestAuthority(t *testing.T) {
	f := idtest.NewFixture(t)
	require.Equal(t, f.Authority, f.Keeper.Authority())
}
