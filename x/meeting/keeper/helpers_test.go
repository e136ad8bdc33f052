package keeper_test

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

const (
	otherChain = "other-chain"
	// duration is the lifetime of the meetings the tests create.
	duration = 3600
)

// dev is a registered device with an ephemeral key for the test meeting.
type dev struct {
	user, id string
	key      ed25519.PrivateKey
	eph      []byte
}

func (d dev) ref() types.MemberRef { return types.MemberRef{UserId: d.user, DeviceId: d.id} }

func refs(ds ...dev) []types.MemberRef {
	out := make([]types.MemberRef, len(ds))
	for i, d := range ds {
		out[i] = d.ref()
	}
	return out
}

// world is the state most message tests start from: registered devices
//
//	alice/phone (leader of meeting mid), alice/tablet, bob/desk,
//	carol/laptop, dave/pc, erin/one and erin/two (erin has no request)
//
// and meeting mid open with default policy and no epoch yet.
type world struct {
	f                                      *mtest.Fixture
	mid                                    []byte
	alice, tablet, bob, carol, dave, erin1 dev
	erin2                                  dev
	// pendingCreate is a creation a test case signed ahead of time.
	pendingCreate *types.MsgCreateMeeting
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := mtest.NewFixture(t)
	w := &world{f: f, mid: mtest.NewMeetingID(1)}
	mk := func(user, id string, key ed25519.PrivateKey) dev {
		eph, _ := f.EphKey(t)
		return dev{user: user, id: id, key: key, eph: eph}
	}
	w.alice = mk("alice", "phone", f.RegisterUser(t, "alice", "phone"))
	w.tablet = mk("alice", "tablet", f.AddDevice(t, "alice", "tablet", w.alice.key))
	w.bob = mk("bob", "desk", f.RegisterUser(t, "bob", "desk"))
	w.carol = mk("carol", "laptop", f.RegisterUser(t, "carol", "laptop"))
	w.dave = mk("dave", "pc", f.RegisterUser(t, "dave", "pc"))
	w.erin1 = mk("erin", "one", f.RegisterUser(t, "erin", "one"))
	w.erin2 = mk("erin", "two", f.AddDevice(t, "erin", "two", w.erin1.key))
	require.NoError(t, w.create(w.mid, w.alice, types.Policy{}))
	f.ResetEvents()
	return w
}

// withRoster commits epoch 1 of mid with alice, bob and carol, leaves dave
// with a pending request and checks the invariants.
func (w *world) withRoster(t *testing.T) *world {
	t.Helper()
	for _, d := range []dev{w.bob, w.carol, w.dave} {
		require.NoError(t, w.request(w.mid, d))
	}
	require.NoError(t, w.commit(w.mid, 1, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob, w.carol))
	mtest.CheckInvariants(t, w.f)
	w.f.ResetEvents()
	return w
}

func (w *world) create(id []byte, leader dev, p types.Policy) error {
	_, err := w.f.Msg.CreateMeeting(w.f.Ctx, w.f.CreateMeetingMsg(id, leader.user, leader.id, leader.key, leader.eph, p, duration))
	return err
}

func (w *world) request(id []byte, d dev) error {
	_, err := w.f.Msg.RequestJoin(w.f.Ctx, w.f.RequestJoinMsg(id, d.user, d.id, d.key, d.eph, nil))
	return err
}

func (w *world) commit(id []byte, epoch uint64, signer dev, reason types.Reason, members ...dev) error {
	_, err := w.f.Msg.CommitEpoch(w.f.Ctx, w.f.CommitEpochMsg(id, epoch, refs(members...), mtest.Commitment(int(epoch)), reason, signer.key))
	return err
}

func (w *world) leave(id []byte, d dev) error {
	_, err := w.f.Msg.Leave(w.f.Ctx, w.f.LeaveMsg(id, d.user, d.id, d.key))
	return err
}

func (w *world) meeting(t *testing.T, id []byte) types.Meeting {
	t.Helper()
	m, err := w.f.Keeper.Meetings.Get(w.f.Ctx, id)
	require.NoError(t, err)
	return m
}

func (w *world) status(t *testing.T, id []byte, d dev) types.RequestStatus {
	t.Helper()
	r, err := w.f.Keeper.Requests.Get(w.f.Ctx, reqKey(id, d))
	require.NoError(t, err)
	return r.Status
}

func (w *world) end(t *testing.T, id []byte) {
	t.Helper()
	m := w.meeting(t, id)
	leader := w.byRef(t, m.LeaderUser, m.LeaderDevice)
	_, err := w.f.Msg.EndMeeting(w.f.Ctx, w.f.EndMeetingMsg(id, m.Epoch, leader.key))
	require.NoError(t, err)
}

// expire moves the block time to mid's expires_at without running the
// EndBlocker, so the meeting is still open in state but past its end.
func (w *world) expire(t *testing.T, id []byte) {
	t.Helper()
	w.f.Ctx = w.f.Ctx.WithBlockTime(time.Unix(w.meeting(t, id).ExpiresAt, 0))
}

func (w *world) byRef(t *testing.T, user, device string) dev {
	t.Helper()
	for _, d := range []dev{w.alice, w.tablet, w.bob, w.carol, w.dave, w.erin1, w.erin2} {
		if d.user == user && d.id == device {
			return d
		}
	}
	require.Failf(t, "unknown device", "%s/%s", user, device)
	return dev{}
}

func reqKey(id []byte, d dev) keeper.RequestKey {
	return types.JoinRequestKey(id, identitytypes.DeviceRef{User: d.user, Device: d.id})
}

// state is what a rejected message must leave untouched.
type state struct {
	gs *types.GenesisState
	kv []mtest.KV
}

func snapshot(t *testing.T, f *mtest.Fixture) state {
	t.Helper()
	f.ResetEvents()
	return state{gs: f.Export(t), kv: f.Snapshot(t)}
}

// requireRejected checks that err is want and that the message changed
// nothing: same exported genesis, same raw stores, no event.
func requireRejected(t *testing.T, f *mtest.Fixture, before state, err, want error) {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, errors.Is(err, want), "want %v, got %v", want, err)
	require.Equal(t, before.gs, f.Export(t), "a rejected message changed the exported state")
	require.Equal(t, before.kv, f.Snapshot(t), "a rejected message changed the store")
	require.Empty(t, f.Ctx.EventManager().Events(), "a rejected message emitted events")
}

// signedElsewhere re-signs a message built by build for another chain ID.
func signedElsewhere[T any](f *mtest.Fixture, build func() T) T {
	ctx := f.Ctx
	f.Ctx = f.Ctx.WithChainID(otherChain)
	defer func() { f.Ctx = ctx }()
	return build()
}
