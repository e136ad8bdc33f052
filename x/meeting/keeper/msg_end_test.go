package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func TestEndMeeting(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	require.NoError(t, w.request(w.mid, w.erin1))
	f.ResetEvents()
	_, err := f.Msg.EndMeeting(f.Ctx, f.EndMeetingMsg(w.mid, 1, w.alice.key))
	require.NoError(t, err)

	m := w.meeting(t, w.mid)
	require.Equal(t, types.Status_STATUS_ENDED, m.Status)
	require.EqualValues(t, mtest.Height, m.EndedHeight)
	for _, d := range []dev{w.dave, w.erin1} {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, w.mid, d))
	}
	for _, d := range []dev{w.alice, w.bob, w.carol} {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, w.mid, d), "the last roster is kept for audit")
	}
	has, err := f.Keeper.PendingCount.Has(f.Ctx, w.mid)
	require.NoError(t, err)
	require.False(t, has)
	for _, user := range []string{"alice", "bob", "carol"} {
		res, err := f.Query.MeetingsByLeader(f.Ctx, &types.QueryMeetingsByLeaderRequest{UserId: user})
		require.NoError(t, err)
		require.Empty(t, res.Meetings)
		res, err = f.Query.MeetingsByUser(f.Ctx, &types.QueryMeetingsByUserRequest{UserId: user})
		require.NoError(t, err)
		require.Empty(t, res.Meetings)
	}
	has, err = f.Keeper.ExpiryQueue.Has(f.Ctx, collections.Join(m.ExpiresAt, w.mid))
	require.NoError(t, err)
	require.False(t, has)
	has, err = f.Keeper.PruneQueue.Has(f.Ctx, collections.Join(int64(mtest.Height+types.DefaultRetentionBlocks), w.mid))
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, []*types.EventMeetingEnded{{MeetingId: w.mid, Cause: "leader"}}, mtest.Events[*types.EventMeetingEnded](t, f))
	require.Equal(t, []*types.EventRequestExpired{
		{MeetingId: w.mid, UserId: "dave", DeviceId: "pc"},
		{MeetingId: w.mid, UserId: "erin", DeviceId: "one"},
	}, mtest.Events[*types.EventRequestExpired](t, f), "every pending request that expires says so")
	mtest.CheckInvariants(t, f)
}

func TestEndMeetingRejected(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgEndMeeting
		want  error
	}{
		{name: "by a non-leader", want: types.ErrNotLeader, msg: func(w *world) *types.MsgEndMeeting {
			return w.f.EndMeetingMsg(w.mid, 1, w.bob.key)
		}},
		{name: "signed for another epoch", want: types.ErrNotLeader, msg: func(w *world) *types.MsgEndMeeting {
			return w.f.EndMeetingMsg(w.mid, 0, w.alice.key)
		}},
		{name: "signed for another chain", want: types.ErrNotLeader, msg: func(w *world) *types.MsgEndMeeting {
			return signedElsewhere(w.f, func() *types.MsgEndMeeting { return w.f.EndMeetingMsg(w.mid, 1, w.alice.key) })
		}},
		{name: "signed for another meeting", want: types.ErrNotLeader, msg: func(w *world) *types.MsgEndMeeting {
			msg := w.f.EndMeetingMsg(mtest.NewMeetingID(2), 1, w.alice.key)
			msg.MeetingId = w.mid
			return msg
		}},
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(w *world) *types.MsgEndMeeting {
			return w.f.EndMeetingMsg(mtest.NewMeetingID(99), 1, w.alice.key)
		}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgEndMeeting {
			return w.f.EndMeetingMsg(w.mid[:1], 1, w.alice.key)
		}},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg:   func(w *world) *types.MsgEndMeeting { return w.f.EndMeetingMsg(w.mid, 1, w.alice.key) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			msg := tc.msg(w)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.EndMeeting(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// After the end, every message about the meeting is refused as ended.
func TestMessagesAfterEnd(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	require.NoError(t, w.leave(w.mid, w.carol)) // a rekey is due, so a claim gets past the timing checks
	f.NextBlock(types.DefaultLeaderTimeoutBlocks)
	w.end(t, w.mid)
	eph, _ := f.EphKey(t)
	cases := []struct {
		name string
		send func() error
	}{
		{"RequestJoin", func() error {
			_, err := f.Msg.RequestJoin(f.Ctx, f.RequestJoinMsg(w.mid, "erin", "one", w.erin1.key, w.erin1.eph, nil))
			return err
		}},
		{"CommitEpoch", func() error { return w.commit(w.mid, 2, w.alice, types.Reason_REASON_LEAVE, w.alice, w.bob) }},
		{"Leave", func() error { return w.leave(w.mid, w.bob) }},
		{"TransferLeadership", func() error {
			_, err := f.Msg.TransferLeadership(f.Ctx, f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key))
			return err
		}},
		{"ClaimLeadership", func() error {
			_, err := f.Msg.ClaimLeadership(f.Ctx, f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph, w.bob.key))
			return err
		}},
		{"EndMeeting", func() error {
			_, err := f.Msg.EndMeeting(f.Ctx, f.EndMeetingMsg(w.mid, 1, w.alice.key))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f)
			requireRejected(t, f, before, tc.send(), types.ErrMeetingEnded)
		})
	}
	t.Run("CreateMeeting with the same ID", func(t *testing.T) {
		before := snapshot(t, f)
		requireRejected(t, f, before, w.create(w.mid, w.bob, types.Policy{}), types.ErrMeetingExists)
	})
}
