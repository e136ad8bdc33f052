package keeper_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func (w *world) rotate(id []byte, d dev, newEph []byte) error {
	_, err := w.f.Msg.RotateEphKey(w.f.Ctx, w.f.RotateEphKeyMsg(id, d.user, d.id, d.key, newEph))
	return err
}

// A member rotates its key: the request and the log change, the current
// epoch does not, and the next commit must be computed with the new key.
func TestRotateEphKey(t *testing.T) {
	w := newWorld(t).withRoster(t) // log: alice 1, bob 2, carol 3, dave 4
	f := w.f
	oldBob := w.bob
	eph, _ := f.EphKey(t)
	f.NextBlock(1)
	require.NoError(t, w.rotate(w.mid, w.bob, eph))
	w.bob.eph = eph

	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.bob))
	require.NoError(t, err)
	require.Equal(t, types.JoinRequest{
		MeetingId: w.mid, UserId: "bob", DeviceId: "desk", EphPk: eph,
		Status: types.RequestStatus_REQUEST_STATUS_ADMITTED, Height: mtest.Height, Seq: 5,
	}, r)
	m := w.meeting(t, w.mid)
	require.EqualValues(t, 5, m.RequestSeq)
	require.Equal(t, w.alice.eph, m.LeaderEphPk, "a member's rotation changed the leader's key")
	e, err := f.Keeper.RequestLog.Get(f.Ctx, collections.Join(w.mid, uint64(5)))
	require.NoError(t, err)
	require.Equal(t, types.RequestLogEntry{UserId: "bob", DeviceId: "desk", Height: mtest.Height + 1, Kind: types.LogKind_LOG_KIND_ROTATE}, e)
	require.Equal(t, []*types.EventEphKeyRotated{{MeetingId: w.mid, UserId: "bob", DeviceId: "desk", EphPkHash: types.EphKeyHash(eph), Seq: 5}},
		mtest.Events[*types.EventEphKeyRotated](t, f))
	require.Len(t, f.Ctx.EventManager().Events(), 1, "one event per state change")
	// The current epoch keeps the old key.
	epoch1, err := f.Keeper.Epochs.Get(f.Ctx, collections.Join(w.mid, uint64(1)))
	require.NoError(t, err)
	require.Equal(t, rosterOf(w.alice, oldBob, w.carol), epoch1.Members)
	require.Equal(t, types.RosterHash(w.mid, epoch1.Members), m.RosterHash)
	mtest.CheckInvariants(t, f)

	// A leader that was shown bob's old key computes the old roster hash:
	// the chain refuses the commit, naming both hashes.
	stale := types.RosterHash(w.mid, rosterOf(w.alice, oldBob, w.carol))
	fresh := types.RosterHash(w.mid, rosterOf(w.alice, w.bob, w.carol))
	before := snapshot(t, f)
	_, err = f.Msg.CommitEpoch(f.Ctx, f.CommitEpochMsgWithHash(w.mid, 2, refs(w.alice, w.bob, w.carol), stale,
		mtest.Commitment(2), types.Reason_REASON_ROTATE, w.alice.key))
	requireRejected(t, f, before, err, types.ErrRosterHashMismatch)
	require.ErrorContains(t, err, fmt.Sprintf("%x", stale))
	require.ErrorContains(t, err, fmt.Sprintf("%x", fresh))

	// The commit computed with the new key goes through.
	res, err := f.Msg.CommitEpoch(f.Ctx, f.CommitEpochMsgWithHash(w.mid, 2, refs(w.alice, w.bob, w.carol), fresh,
		mtest.Commitment(2), types.Reason_REASON_ROTATE, w.alice.key))
	require.NoError(t, err)
	require.Equal(t, &types.MsgCommitEpochResponse{RosterHash: fresh, Epoch: 2}, res)
	epoch2, err := f.Keeper.Epochs.Get(f.Ctx, collections.Join(w.mid, uint64(2)))
	require.NoError(t, err)
	require.Equal(t, rosterOf(w.alice, w.bob, w.carol), epoch2.Members)
	mtest.CheckInvariants(t, f)

	// The old key is spent: nobody may request or rotate to it.
	before = snapshot(t, f)
	err = w.rotate(w.mid, w.carol, oldBob.eph)
	requireRejected(t, f, before, err, types.ErrEphKeyReused)
}

// The leader may rotate too, before the first epoch as well: its key in
// the meeting follows.
func TestRotateEphKeyLeader(t *testing.T) {
	w := newWorld(t)
	f := w.f
	eph, _ := f.EphKey(t)
	require.NoError(t, w.rotate(w.mid, w.alice, eph))
	m := w.meeting(t, w.mid)
	require.Equal(t, eph, m.LeaderEphPk)
	require.EqualValues(t, 2, m.RequestSeq)
	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.alice))
	require.NoError(t, err)
	require.Equal(t, eph, r.EphPk)
	require.EqualValues(t, 2, r.Seq)
	mtest.CheckInvariants(t, f)

	// The first epoch's roster holds the rotated key.
	w.alice.eph = eph
	require.NoError(t, w.request(w.mid, w.bob))
	require.NoError(t, w.commit(w.mid, 1, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob))
	require.Equal(t, types.RosterHash(w.mid, rosterOf(w.alice, w.bob)), w.meeting(t, w.mid).RosterHash)
	mtest.CheckInvariants(t, f)
}

func TestRotateEphKeyRejected(t *testing.T) {
	short := make([]byte, types.EphKeySize-1)
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(t *testing.T, w *world) *types.MsgRotateEphKey
		want  error
	}{
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.rotateMsg(t, mtest.NewMeetingID(99), w.bob)
		}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.rotateMsg(t, w.mid[:8], w.bob)
		}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			setup: func(t *testing.T, w *world) { w.end(t, w.mid) },
			msg:   func(t *testing.T, w *world) *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.bob) }},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg:   func(t *testing.T, w *world) *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.bob) }},
		{name: "bad user_id", want: identitytypes.ErrInvalidUserID, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			msg := w.rotateMsg(t, w.mid, w.bob)
			msg.UserId = "Bob!"
			return msg
		}},
		{name: "not admitted: no request", want: types.ErrNotMember, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.rotateMsg(t, w.mid, w.erin1)
		}},
		{name: "pending request", want: types.ErrNotMember, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.rotateMsg(t, w.mid, w.dave)
		}},
		{name: "not admitted: left", want: types.ErrNotMember,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.leave(w.mid, w.bob)) },
			msg:   func(t *testing.T, w *world) *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.bob) }},
		{name: "not admitted: removed", want: types.ErrNotMember,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_REMOVE, w.alice, w.carol))
			},
			msg: func(t *testing.T, w *world) *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.bob) }},
		{name: "key too short", want: types.ErrInvalidEphKey, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.f.RotateEphKeyMsg(w.mid, "bob", "desk", w.bob.key, short)
		}},
		{name: "reused key: another member's", want: types.ErrEphKeyReused, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.f.RotateEphKeyMsg(w.mid, "bob", "desk", w.bob.key, w.carol.eph)
		}},
		{name: "reused key: its own", want: types.ErrEphKeyReused, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return w.f.RotateEphKeyMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph)
		}},
		{name: "signed by another device", want: identitytypes.ErrInvalidSignature, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			eph, _ := w.f.EphKey(t)
			return w.f.RotateEphKeyMsg(w.mid, "bob", "desk", w.carol.key, eph)
		}},
		{name: "signed for another chain", want: identitytypes.ErrInvalidSignature, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			return signedElsewhere(w.f, func() *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.bob) })
		}},
		{name: "signed over another current key", want: identitytypes.ErrInvalidSignature, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			eph, _ := w.f.EphKey(t)
			msg := w.f.RotateEphKeyMsg(w.mid, "bob", "desk", w.bob.key, eph)
			msg.Sig = ed25519.Sign(w.bob.key, types.RotateSignBytes(w.f.Ctx.ChainID(), w.mid, "bob", "desk", types.EphKeyHash(w.carol.eph), eph))
			return msg
		}},
		{name: "revoked device", want: identitytypes.ErrDeviceRevoked,
			setup: func(t *testing.T, w *world) {
				w.withTablet(t)
				w.f.RevokeDevice(t, "alice", "tablet", "phone", w.alice.key)
			},
			msg: func(t *testing.T, w *world) *types.MsgRotateEphKey { return w.rotateMsg(t, w.mid, w.tablet) }},
		{name: "replayed signature", want: identitytypes.ErrInvalidSignature, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			msg := w.rotateMsg(t, w.mid, w.bob)
			_, err := w.f.Msg.RotateEphKey(w.f.Ctx, msg)
			require.NoError(t, err)
			return msg
		}},
		{name: "replayed after rotating back and forth", want: identitytypes.ErrInvalidSignature, msg: func(t *testing.T, w *world) *types.MsgRotateEphKey {
			msg := w.rotateMsg(t, w.mid, w.bob)
			_, err := w.f.Msg.RotateEphKey(w.f.Ctx, msg)
			require.NoError(t, err)
			_, err = w.f.Msg.RotateEphKey(w.f.Ctx, w.rotateMsg(t, w.mid, w.bob))
			require.NoError(t, err)
			return msg
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			msg := tc.msg(t, w)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.RotateEphKey(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// rotateMsg is d's rotation to a fresh key.
func (w *world) rotateMsg(t *testing.T, id []byte, d dev) *types.MsgRotateEphKey {
	t.Helper()
	eph, _ := w.f.EphKey(t)
	return w.f.RotateEphKeyMsg(id, d.user, d.id, d.key, eph)
}
