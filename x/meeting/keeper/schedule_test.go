package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

// sched is meeting 2, led by bob/desk, scheduled to start in an hour for
// 30 minutes.
var sched = mtest.NewMeetingID(2)

const schedDuration = 30 * 60

func (w *world) schedule(t *testing.T, startsIn time.Duration) int64 {
	t.Helper()
	start := w.f.Ctx.BlockTime().Add(startsIn).Unix()
	_, err := w.f.Msg.CreateMeeting(w.f.Ctx, w.f.ScheduleMeetingMsg(sched, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, start, schedDuration))
	require.NoError(t, err)
	return start
}

// at moves the block time to unix second s (the height moves one block).
func (w *world) at(s int64) {
	w.f.Ctx = w.f.Ctx.WithBlockHeight(w.f.Ctx.BlockHeight() + 1).WithBlockTime(time.Unix(s, 0))
}

func TestScheduleCreateRules(t *testing.T) {
	now := func(w *world) int64 { return w.f.Ctx.BlockTime().Unix() }
	for _, tc := range []struct {
		name     string
		start    func(w *world) int64
		duration uint64
		want     error
	}{
		{"start now", now, schedDuration, types.ErrInvalidSchedule},
		{"start in the past", func(w *world) int64 { return now(w) - 1 }, schedDuration, types.ErrInvalidSchedule},
		{"more than a year ahead", func(w *world) int64 { return now(w) + types.MaxScheduleAhead + 1 }, schedDuration, types.ErrInvalidSchedule},
		{"zero duration", func(w *world) int64 { return now(w) + 60 }, 0, types.ErrInvalidDuration},
		{"duration over the maximum", func(w *world) int64 { return now(w) + 60 }, types.DefaultMaxDurationSeconds + 1, types.ErrInvalidDuration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			msg := w.f.ScheduleMeetingMsg(sched, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, tc.start(w), tc.duration)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.CreateMeeting(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}

	t.Run("a year ahead, the limit", func(t *testing.T) {
		w := newWorld(t)
		start := w.schedule(t, types.MaxScheduleAhead*time.Second)
		m := w.meeting(t, sched)
		require.Equal(t, start, m.StartsAt)
		require.Equal(t, start+schedDuration, m.ExpiresAt, "a scheduled meeting runs from its start")
		require.Equal(t, []*types.EventMeetingCreated{{MeetingId: sched, LeaderUser: "bob", LeaderDevice: "desk", ExpiresAt: m.ExpiresAt, StartsAt: start}},
			mtest.Events[*types.EventMeetingCreated](t, w.f))
		has, err := w.f.Keeper.UnheldQueue.Has(w.f.Ctx, collections.Join(m.UnheldDeadline(), sched))
		require.NoError(t, err)
		require.True(t, has)
		mtest.CheckInvariants(t, w.f)
	})

	t.Run("the signature covers starts_at", func(t *testing.T) {
		w := newWorld(t)
		msg := w.f.ScheduleMeetingMsg(sched, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, w.f.Ctx.BlockTime().Unix()+3600, schedDuration)
		msg.StartsAt += 60
		before := snapshot(t, w.f)
		_, err := w.f.Msg.CreateMeeting(w.f.Ctx, msg)
		require.Error(t, err)
		require.Equal(t, before.kv, w.f.Snapshot(t))
		// An unscheduled creation signed as scheduled does not pass either.
		msg = w.f.ScheduleMeetingMsg(sched, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, w.f.Ctx.BlockTime().Unix()+3600, schedDuration)
		msg.StartsAt = 0
		_, err = w.f.Msg.CreateMeeting(w.f.Ctx, msg)
		require.Error(t, err)
	})
}

// Before the start, requests wait in the lobby and only the leader may be
// in an epoch; from the start the leader admits them.
func TestScheduleLobby(t *testing.T) {
	w := newWorld(t)
	f := w.f
	setParams(t, f, func(p *types.Params) { p.RequestTtlBlocks = 10 })
	start := w.schedule(t, time.Hour)
	require.NoError(t, w.request(sched, w.carol))
	require.NoError(t, w.commit(sched, 1, w.bob, types.Reason_REASON_JOIN, w.bob), "the leader alone may commit before the start")

	before := snapshot(t, f)
	requireRejected(t, f, before, w.commit(sched, 2, w.bob, types.Reason_REASON_JOIN, w.bob, w.carol), types.ErrNotStarted)

	// The lobby request outlives request_ttl_blocks: it waits for the start.
	f.NextBlock(20)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, w.status(t, sched, w.carol))
	mtest.CheckInvariants(t, f)

	w.at(start - 1)
	requireRejected(t, f, snapshot(t, f), w.commit(sched, 2, w.bob, types.Reason_REASON_JOIN, w.bob, w.carol), types.ErrNotStarted)
	w.at(start)
	require.NoError(t, w.commit(sched, 2, w.bob, types.Reason_REASON_JOIN, w.bob, w.carol))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, sched, w.carol))
	has, err := f.Keeper.UnheldQueue.Has(f.Ctx, collections.Join(w.meeting(t, sched).UnheldDeadline(), sched))
	require.NoError(t, err)
	require.False(t, has, "a held meeting leaves the unheld queue")

	// A request after the start has the usual TTL.
	require.NoError(t, w.request(sched, w.dave))
	f.NextBlock(12)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, sched, w.dave))
	mtest.CheckInvariants(t, f)

	// Held: it ends at its end and is kept retention_blocks like any other.
	w.at(w.meeting(t, sched).ExpiresAt)
	f.NextBlock(1)
	m := w.meeting(t, sched)
	require.Equal(t, types.Status_STATUS_ENDED, m.Status)
	w.at(m.UnheldDeadline() + 1)
	f.NextBlock(1)
	require.Empty(t, mtest.Events[*types.EventMeetingPruned](t, f))
	require.Equal(t, types.Status_STATUS_ENDED, w.meeting(t, sched).Status)
	mtest.CheckInvariants(t, f)
}

// A scheduled meeting that admitted no one is ended at its end (as any
// meeting) and pruned at its end plus the grace, with an event, instead
// of after the retention period.
func TestScheduleUnheldPruned(t *testing.T) {
	w := newWorld(t)
	f := w.f
	start := w.schedule(t, time.Hour)
	require.NoError(t, w.request(sched, w.carol))
	require.NoError(t, w.commit(sched, 1, w.bob, types.Reason_REASON_JOIN, w.bob))
	end := start + schedDuration

	w.at(end)
	f.NextBlock(1)
	m := w.meeting(t, sched)
	require.Equal(t, types.Status_STATUS_ENDED, m.Status)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, sched, w.carol))
	mtest.CheckInvariants(t, f)

	w.at(m.UnheldDeadline() - 1)
	f.NextBlock(1)
	require.Empty(t, mtest.Events[*types.EventMeetingPruned](t, f))
	w.at(m.UnheldDeadline())
	f.NextBlock(1)
	require.Contains(t, mtest.Events[*types.EventMeetingPruned](t, f), &types.EventMeetingPruned{MeetingId: sched, Cause: "never_held"})
	has, err := f.Keeper.Meetings.Has(f.Ctx, sched)
	require.NoError(t, err)
	require.False(t, has)
	mtest.CheckInvariants(t, f)
}

// The unheld prune shares end_block_budget: many meetings due at once are
// pruned over several blocks, none lost, each with its event.
func TestScheduleUnheldPruneBudget(t *testing.T) {
	w := newWorld(t)
	f := w.f
	setParams(t, f, func(p *types.Params) { p.EndBlockBudget = 4 })
	start := f.Ctx.BlockTime().Add(time.Hour).Unix()
	const n = 5
	for i := range n {
		eph, _ := f.EphKey(t)
		_, err := f.Msg.CreateMeeting(f.Ctx, f.ScheduleMeetingMsg(mtest.NewMeetingID(10+i), "bob", "desk", w.bob.key, eph, types.Policy{}, start, schedDuration))
		require.NoError(t, err)
	}
	w.at(start + schedDuration + types.UnheldGraceSeconds)
	pruned := 0
	for block := 0; pruned < n; block++ {
		require.Less(t, block, 20, "pruning does not progress")
		f.NextBlock(1)
		for _, e := range mtest.Events[*types.EventMeetingPruned](t, f) {
			if e.Cause == "never_held" {
				pruned++
			}
		}
		mtest.CheckInvariants(t, f)
	}
	for i := range n {
		has, err := f.Keeper.Meetings.Has(f.Ctx, mtest.NewMeetingID(10+i))
		require.NoError(t, err)
		require.False(t, has)
	}
}

// A scheduled meeting its leader ends before the start is pruned at its
// deadline too, not before (its creation signature must expire first).
func TestScheduleEndedEarly(t *testing.T) {
	w := newWorld(t)
	f := w.f
	w.schedule(t, time.Hour)
	_, err := f.Msg.EndMeeting(f.Ctx, f.EndMeetingMsg(sched, 0, w.bob.key))
	require.NoError(t, err)
	setParams(t, f, func(p *types.Params) { p.RetentionBlocks = 0 })
	f.NextBlock(3)
	require.Equal(t, types.Status_STATUS_ENDED, w.meeting(t, sched).Status)
	mtest.CheckInvariants(t, f)
	w.at(w.meeting(t, sched).UnheldDeadline() - 1)
	f.NextBlock(1)
	require.NotContains(t, mtest.Events[*types.EventMeetingPruned](t, f), &types.EventMeetingPruned{MeetingId: sched, Cause: "never_held"})
	w.at(w.meeting(t, sched).UnheldDeadline())
	f.NextBlock(1)
	require.Contains(t, mtest.Events[*types.EventMeetingPruned](t, f), &types.EventMeetingPruned{MeetingId: sched, Cause: "never_held"})
}

// Export and import keep the schedule: the lobby request stays out of the
// TTL queue, the unheld queue is rebuilt.
func TestScheduleGenesisRoundTrip(t *testing.T) {
	w := newWorld(t)
	f := w.f
	w.schedule(t, time.Hour)
	require.NoError(t, w.request(sched, w.carol))
	idGenesis, err := f.Identity.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	gs := f.Export(t)

	g := mtest.NewFixture(t)
	g.Ctx = g.Ctx.WithBlockHeight(f.Ctx.BlockHeight()).WithBlockTime(f.Ctx.BlockTime())
	require.NoError(t, g.Identity.InitGenesis(g.Ctx, idGenesis))
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, gs))
	require.Equal(t, gs, g.Export(t))
	require.Equal(t, withoutUsedEphKeys(f.Snapshot(t)), withoutUsedEphKeys(g.Snapshot(t)))
	mtest.CheckInvariants(t, g)
}
