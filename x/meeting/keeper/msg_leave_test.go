package keeper_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/require"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func TestLeave(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f

	// A pending device withdraws: no rekey is due.
	require.NoError(t, w.leave(w.mid, w.dave))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_LEFT, w.status(t, w.mid, w.dave))
	require.EqualValues(t, 0, w.meeting(t, w.mid).RekeyDueHeight)
	_, err := f.Keeper.PendingCount.Get(f.Ctx, w.mid)
	require.Error(t, err, "the pending count must drop to zero")
	require.Empty(t, mtest.Events[*types.EventRekeyDue](t, f))
	mtest.CheckInvariants(t, f)

	// An admitted member leaves a block later: a rekey is due from then.
	f.NextBlock(1)
	require.NoError(t, w.leave(w.mid, w.bob))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_LEFT, w.status(t, w.mid, w.bob))
	require.EqualValues(t, mtest.Height+1, w.meeting(t, w.mid).RekeyDueHeight)
	require.Equal(t, []*types.EventMemberLeft{{MeetingId: w.mid, UserId: "bob", DeviceId: "desk"}},
		mtest.Events[*types.EventMemberLeft](t, f))
	require.Equal(t, []*types.EventRekeyDue{{MeetingId: w.mid, Epoch: 1, Cause: "leave", UserId: "bob", DeviceId: "desk"}},
		mtest.Events[*types.EventRekeyDue](t, f))
	mtest.CheckInvariants(t, f)

	// A second departure keeps the first due height.
	f.NextBlock(1)
	require.NoError(t, w.leave(w.mid, w.carol))
	require.EqualValues(t, mtest.Height+1, w.meeting(t, w.mid).RekeyDueHeight)
	mtest.CheckInvariants(t, f)
}

// A member that left after the last commit and asked to join again is in
// the current roster with a pending request until the next commit; the
// next commit may admit it under its new key.
func TestLeaveAndRequestAgainBeforeTheNextCommit(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	require.NoError(t, w.leave(w.mid, w.bob))
	eph, _ := f.EphKey(t)
	w.bob.eph = eph
	require.NoError(t, w.request(w.mid, w.bob))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, w.status(t, w.mid, w.bob))
	mtest.CheckInvariants(t, f)
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob, w.carol))
	require.Equal(t, types.RosterHash(w.mid, rosterOf(w.alice, w.bob, w.carol)), w.meeting(t, w.mid).RosterHash)
	mtest.CheckInvariants(t, f)
}

func TestLeaveRejected(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgLeave
		want  error
	}{
		{name: "the leader", want: types.ErrLeaderCannotLeave, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(w.mid, "alice", "phone", w.alice.key)
		}},
		{name: "device without a request", want: types.ErrNotRequested, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(w.mid, "erin", "one", w.erin1.key)
		}},
		{name: "device that already left", want: types.ErrNotRequested,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.leave(w.mid, w.bob)) },
			msg:   func(w *world) *types.MsgLeave { return w.f.LeaveMsg(w.mid, "bob", "desk", w.bob.key) }},
		{name: "device that was removed", want: types.ErrNotRequested,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_REMOVE, w.alice, w.carol))
			},
			msg: func(w *world) *types.MsgLeave { return w.f.LeaveMsg(w.mid, "bob", "desk", w.bob.key) }},
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(mtest.NewMeetingID(99), "bob", "desk", w.bob.key)
		}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(append(w.mid, 1), "bob", "desk", w.bob.key)
		}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			setup: func(t *testing.T, w *world) { w.end(t, w.mid) },
			msg:   func(w *world) *types.MsgLeave { return w.f.LeaveMsg(w.mid, "bob", "desk", w.bob.key) }},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg:   func(w *world) *types.MsgLeave { return w.f.LeaveMsg(w.mid, "bob", "desk", w.bob.key) }},
		{name: "bad user_id", want: identitytypes.ErrInvalidUserID, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(w.mid, "", "desk", w.bob.key)
		}},
		{name: "signed by another member", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgLeave {
			return w.f.LeaveMsg(w.mid, "bob", "desk", w.carol.key)
		}},
		{name: "signed for another chain", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgLeave {
			return signedElsewhere(w.f, func() *types.MsgLeave { return w.f.LeaveMsg(w.mid, "bob", "desk", w.bob.key) })
		}},
		{name: "signed for another meeting", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgLeave {
			msg := w.f.LeaveMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key)
			msg.MeetingId = w.mid
			return msg
		}},
		{name: "signed over another request's key", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgLeave {
			return leaveOverKeyHash(w, w.bob, types.EphKeyHash(w.carol.eph))
		}},
		{name: "signed without the request's key", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgLeave {
			return leaveOverKeyHash(w, w.bob, nil)
		}},
		{name: "signed for the device's previous request", want: identitytypes.ErrInvalidSignature,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.leave(w.mid, w.bob))
				eph, _ := w.f.EphKey(t)
				_, err := w.f.Msg.RequestJoin(w.f.Ctx, w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, eph, nil))
				require.NoError(t, err)
			},
			// w.bob.eph is the key of the request bob left.
			msg: func(w *world) *types.MsgLeave { return leaveOverKeyHash(w, w.bob, types.EphKeyHash(w.bob.eph)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			msg := tc.msg(w)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.Leave(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// leaveOverKeyHash is d's MsgLeave from mid signed over the given key
// hash instead of its current request's.
func leaveOverKeyHash(w *world, d dev, keyHash []byte) *types.MsgLeave {
	msg := w.f.LeaveMsg(w.mid, d.user, d.id, d.key)
	msg.Sig = ed25519.Sign(d.key, types.LeaveSignBytes(w.f.Ctx.ChainID(), w.mid, d.user, d.id, keyHash))
	return msg
}

// Revoking a device through x/identity reaches x/meeting through the hook.
func TestDeviceRevocationHook(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	w.withTablet(t)
	require.NoError(t, w.request(w.mid, w.erin2))
	ended := mtest.NewMeetingID(5)
	require.NoError(t, w.create(ended, w.tablet, types.Policy{}))
	w.end(t, ended)
	f.NextBlock(2)
	before := w.meeting(t, ended)

	// An admitted device: the meeting becomes rekey-due.
	f.RevokeDevice(t, "alice", "tablet", "phone", w.alice.key)
	require.EqualValues(t, mtest.Height+2, w.meeting(t, w.mid).RekeyDueHeight)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, w.mid, w.tablet),
		"the request stays admitted until the next commit leaves it out")
	require.Equal(t, []*types.EventRekeyDue{{MeetingId: w.mid, Epoch: 2, Cause: "revoke", UserId: "alice", DeviceId: "tablet"}},
		mtest.Events[*types.EventRekeyDue](t, f))
	require.Equal(t, before, w.meeting(t, ended), "an ended meeting must not change")
	mtest.CheckInvariants(t, f)

	// A pending device: its request expires and no rekey is due for it.
	f.NextBlock(1)
	f.RevokeDevice(t, "erin", "two", "one", w.erin1.key)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, w.mid, w.erin2))
	require.Equal(t, []*types.EventRequestExpired{{MeetingId: w.mid, UserId: "erin", DeviceId: "two"}},
		mtest.Events[*types.EventRequestExpired](t, f))
	require.EqualValues(t, mtest.Height+2, w.meeting(t, w.mid).RekeyDueHeight)
	mtest.CheckInvariants(t, f)

	// The next commit leaves the revoked device out and clears the rekey.
	require.NoError(t, w.commit(w.mid, 3, w.alice, types.Reason_REASON_REVOKE, w.alice, w.bob, w.carol))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_REMOVED, w.status(t, w.mid, w.tablet))
	require.EqualValues(t, 0, w.meeting(t, w.mid).RekeyDueHeight)
	mtest.CheckInvariants(t, f)
}
