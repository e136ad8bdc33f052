package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func setParams(t *testing.T, f *mtest.Fixture, edit func(p *types.Params)) {
	t.Helper()
	p, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(t, err)
	edit(&p)
	f.SetParams(t, p)
}

func TestEndBlockerExpiresMeetings(t *testing.T) {
	w := newWorld(t)
	f := w.f
	short := mtest.NewMeetingID(2)
	_, err := f.Msg.CreateMeeting(f.Ctx, f.CreateMeetingMsg(short, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, 60))
	require.NoError(t, err)
	require.NoError(t, w.request(short, w.carol))
	blocks := int(60 / mtest.BlockInterval.Seconds())

	// One block before expires_at it still takes messages; at expires_at it
	// refuses them, though it is still open until that block's EndBlocker.
	f.NextBlock(blocks - 1)
	require.Less(t, f.Ctx.BlockTime().Unix(), w.meeting(t, short).ExpiresAt)
	require.NoError(t, w.request(short, w.erin1))
	f.NextBlock(1)
	require.Equal(t, w.meeting(t, short).ExpiresAt, f.Ctx.BlockTime().Unix())
	require.Equal(t, types.Status_STATUS_OPEN, w.meeting(t, short).Status)
	before := snapshot(t, f)
	requireRejected(t, f, before, w.request(short, w.dave), types.ErrMeetingExpired)

	f.NextBlock(1)
	m := w.meeting(t, short)
	require.Equal(t, types.Status_STATUS_ENDED, m.Status)
	require.EqualValues(t, mtest.Height+blocks, m.EndedHeight)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, short, w.carol))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, short, w.erin1))
	require.Equal(t, []*types.EventMeetingEnded{{MeetingId: short, Cause: "expired"}}, mtest.Events[*types.EventMeetingEnded](t, f))
	require.Equal(t, []*types.EventRequestExpired{
		{MeetingId: short, UserId: "carol", DeviceId: "laptop"},
		{MeetingId: short, UserId: "erin", DeviceId: "one"},
	}, mtest.Events[*types.EventRequestExpired](t, f))
	require.Equal(t, types.Status_STATUS_OPEN, w.meeting(t, w.mid).Status, "the long meeting must stay open")
	mtest.CheckInvariants(t, f)
}

func TestEndBlockerExpiryBudget(t *testing.T) {
	w := newWorld(t)
	f := w.f
	setParams(t, f, func(p *types.Params) { p.EndBlockBudget = 2 })
	for i := range 3 {
		_, err := f.Msg.CreateMeeting(f.Ctx, f.CreateMeetingMsg(mtest.NewMeetingID(10+i), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, 60))
		require.NoError(t, err)
	}
	f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(60e9))
	f.NextBlock(1)
	require.Len(t, mtest.Events[*types.EventMeetingEnded](t, f), 2)
	f.NextBlock(1)
	require.Len(t, mtest.Events[*types.EventMeetingEnded](t, f), 1)
	for i := range 3 {
		require.Equal(t, types.Status_STATUS_ENDED, w.meeting(t, mtest.NewMeetingID(10+i)).Status)
	}
	mtest.CheckInvariants(t, f)
}

func TestEndBlockerExpiresStaleRequests(t *testing.T) {
	w := newWorld(t)
	f := w.f
	setParams(t, f, func(p *types.Params) { p.RequestTtlBlocks = 5; p.EndBlockBudget = 2 })
	for _, d := range []dev{w.bob, w.carol, w.dave} {
		require.NoError(t, w.request(w.mid, d))
	}
	f.NextBlock(1)
	require.NoError(t, w.request(w.mid, w.erin1))

	// Requests of height 10 expire once more than 5 blocks have passed:
	// at the EndBlocker of height 16, two of them (the budget); the third
	// at 17, together with erin's (made at 11, due at 17).
	f.NextBlock(5)
	require.EqualValues(t, 16, f.Ctx.BlockHeight())
	for _, d := range []dev{w.bob, w.carol, w.dave, w.erin1} {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, w.status(t, w.mid, d))
	}
	f.NextBlock(1)
	require.Len(t, mtest.Events[*types.EventRequestExpired](t, f), 2)
	f.NextBlock(1)
	require.Len(t, mtest.Events[*types.EventRequestExpired](t, f), 2)
	for _, d := range []dev{w.bob, w.carol, w.dave, w.erin1} {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, w.mid, d))
	}
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, w.mid, w.alice))
	mtest.CheckInvariants(t, f)

	// An expired request may be made again, but only with a new key.
	before := snapshot(t, f)
	requireRejected(t, f, before, w.request(w.mid, w.bob), types.ErrEphKeyReused)
	bob := w.bob
	bob.eph, _ = f.EphKey(t)
	require.NoError(t, w.request(w.mid, bob))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, w.status(t, w.mid, bob))
	mtest.CheckInvariants(t, f)
}

// blocksUntilCreateExpired is the number of blocks NextBlock must end
// before the block time reaches the meeting's create_valid_until, from
// when on the meeting may be pruned.
func (w *world) blocksUntilCreateExpired(t *testing.T, id []byte) int {
	t.Helper()
	left := w.meeting(t, id).CreateValidUntil - w.f.Ctx.BlockTime().Unix()
	if left <= 0 {
		return 0
	}
	step := int64(mtest.BlockInterval.Seconds())
	return int((left + step - 1) / step)
}

func TestEndBlockerPrunesAfterRetention(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	// A retention long enough that the creation signature has expired by
	// the prune height, so only the retention decides.
	const retention = 100
	require.Less(t, w.blocksUntilCreateExpired(t, w.mid), retention)
	setParams(t, f, func(p *types.Params) { p.RetentionBlocks = retention })
	w.end(t, w.mid)
	endedAt := f.Ctx.BlockHeight()
	other := mtest.NewMeetingID(2)
	require.NoError(t, w.create(other, w.bob, types.Policy{}))

	f.NextBlock(retention - 1)
	require.Len(t, f.Export(t).Meetings, 2, "pruned before the retention period")
	f.NextBlock(1)
	// Due now, before this block's EndBlocker: still stored, but left out
	// of an export.
	require.EqualValues(t, endedAt+retention, f.Ctx.BlockHeight())
	has, err := f.Keeper.Meetings.Has(f.Ctx, w.mid)
	require.NoError(t, err)
	require.True(t, has, "pruned before the retention period")
	require.Empty(t, mtest.Events[*types.EventMeetingPruned](t, f))
	require.Len(t, f.Export(t).Meetings, 1, "a meeting due for pruning must be left out of an export")
	mtest.CheckInvariants(t, f)

	f.NextBlock(1)
	require.EqualValues(t, endedAt+retention+1, f.Ctx.BlockHeight())
	require.Equal(t, []*types.EventMeetingPruned{{MeetingId: w.mid, Cause: "retention"}}, mtest.Events[*types.EventMeetingPruned](t, f))
	has, err = f.Keeper.Meetings.Has(f.Ctx, w.mid)
	require.NoError(t, err)
	require.False(t, has)
	gs := f.Export(t)
	require.Len(t, gs.Meetings, 1)
	require.Empty(t, gs.Epochs)
	for _, r := range gs.Requests {
		require.Equal(t, other, r.MeetingId)
	}
	// Indexes are gone too: the devices' revocation finds nothing to do.
	n, err := countDeviceIndex(f, w.mid)
	require.NoError(t, err)
	require.Zero(t, n)
	// So are the meeting's used ephemeral keys.
	n, err = countUsedEphKeys(f, w.mid)
	require.NoError(t, err)
	require.Zero(t, n)
	mtest.CheckInvariants(t, f)

	// The ID may be used again.
	require.NoError(t, w.create(w.mid, w.carol, types.Policy{}))
	mtest.CheckInvariants(t, f)
}

// An ended meeting is kept, even past its retention, until its creation
// signature has expired, so the creation cannot be replayed after the
// prune. Each block the meeting waits costs one unit of the budget.
func TestEndBlockerKeepsMeetingWhileCreationIsValid(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	setParams(t, f, func(p *types.Params) { p.RetentionBlocks = 0; p.EndBlockBudget = 2 })
	third := mtest.NewMeetingID(3)
	other := mtest.NewMeetingID(2)
	require.NoError(t, w.create(other, w.bob, types.Policy{}))
	require.NoError(t, w.create(third, w.carol, types.Policy{}))
	for _, id := range [][]byte{w.mid, other, third} {
		w.end(t, id)
	}
	validUntil := w.meeting(t, w.mid).CreateValidUntil
	waits := w.blocksUntilCreateExpired(t, w.mid)
	require.Positive(t, waits)

	// With a budget of 2, the first EndBlocker puts off two of the three
	// due meetings by one block and does not reach the third.
	h := f.Ctx.BlockHeight()
	f.NextBlock(1)
	n := 0
	require.NoError(t, f.Keeper.PruneQueue.Walk(f.Ctx, nil, func(k collections.Pair[int64, []byte]) (bool, error) {
		require.Contains(t, []int64{h, h + 1}, k.K1())
		if k.K1() == h+1 {
			n++
		}
		return false, nil
	}))
	require.Equal(t, 2, n, "each meeting put off costs one unit of the budget")

	for range waits - 1 {
		f.NextBlock(1)
		require.Empty(t, mtest.Events[*types.EventMeetingPruned](t, f))
	}
	// Every EndBlocker so far ran before valid_until; all three are kept.
	require.Less(t, f.Ctx.BlockTime().Unix()-int64(mtest.BlockInterval.Seconds()), validUntil)
	for _, id := range [][]byte{w.mid, other, third} {
		has, err := f.Keeper.Meetings.Has(f.Ctx, id)
		require.NoError(t, err)
		require.Truef(t, has, "meeting %x pruned while its creation signature was valid", id)
	}
	mtest.CheckInvariants(t, f)

	// From valid_until on they are pruned.
	require.GreaterOrEqual(t, f.Ctx.BlockTime().Unix(), validUntil)
	for i := 0; len(records(t, f)) > 0; i++ {
		require.Less(t, i, 50, "pruning stalled")
		f.NextBlock(1)
		mtest.CheckInvariants(t, f)
	}
	require.Len(t, mtest.Events[*types.EventMeetingPruned](t, f), 1)
}

func countDeviceIndex(f *mtest.Fixture, id []byte) (int, error) {
	n := 0
	err := f.Keeper.DeviceIndex.Walk(f.Ctx, nil, func(k collections.Triple[string, string, []byte]) (bool, error) {
		if string(k.K3()) == string(id) {
			n++
		}
		return false, nil
	})
	return n, err
}

func countUsedEphKeys(f *mtest.Fixture, id []byte) (int, error) {
	n := 0
	err := f.Keeper.UsedEphKeys.Walk(f.Ctx, collections.NewPrefixedPairRange[[]byte, []byte](id),
		func(collections.Pair[[]byte, []byte]) (bool, error) {
			n++
			return false, nil
		})
	return n, err
}

// records are the meetings, requests, epochs, used ephemeral keys and log
// entries in the store, by key. They are read from the store, not from an
// export: an export leaves out the meetings due for pruning.
func records(t *testing.T, f *mtest.Fixture) map[string]string {
	t.Helper()
	k, ctx := f.Keeper, f.Ctx
	out := map[string]string{}
	require.NoError(t, k.Meetings.Walk(ctx, nil, func(id []byte, m types.Meeting) (bool, error) {
		out[fmt.Sprintf("m/%x", id)] = m.String()
		return false, nil
	}))
	require.NoError(t, k.Requests.Walk(ctx, nil, func(key collections.Pair[[]byte, string], r types.JoinRequest) (bool, error) {
		out[fmt.Sprintf("r/%x/%s", key.K1(), key.K2())] = r.String()
		return false, nil
	}))
	require.NoError(t, k.Epochs.Walk(ctx, nil, func(key collections.Pair[[]byte, uint64], e types.Epoch) (bool, error) {
		out[fmt.Sprintf("e/%x/%d", key.K1(), key.K2())] = e.String()
		return false, nil
	}))
	require.NoError(t, k.UsedEphKeys.Walk(ctx, nil, func(key collections.Pair[[]byte, []byte]) (bool, error) {
		out[fmt.Sprintf("k/%x/%x", key.K1(), key.K2())] = ""
		return false, nil
	}))
	require.NoError(t, k.RequestLog.Walk(ctx, nil, func(key collections.Pair[[]byte, uint64], e types.RequestLogEntry) (bool, error) {
		out[fmt.Sprintf("l/%x/%d", key.K1(), key.K2())] = e.String()
		return false, nil
	}))
	return out
}

// touched is the number of records added, changed or deleted between two
// sets of records.
func touched(a, b map[string]string) int {
	n := 0
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			n++
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	return n
}

// bigEndedMeetings ends mid after three epochs (4 requests, 3 epochs, 4
// used keys, 4 log entries, the meeting) and a second meeting (1 request,
// 1 used key, 1 log entry, the meeting), with the given budget and a retention that ends when
// their creation signatures have expired. It returns at the height at
// which both are due, before that block's EndBlocker, with the number of
// records to prune.
func bigEndedMeetings(t *testing.T, budget uint32) (*world, int) {
	t.Helper()
	w := newWorld(t).withRoster(t)
	f := w.f
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_ROTATE, w.alice, w.bob, w.carol))
	require.NoError(t, w.commit(w.mid, 3, w.alice, types.Reason_REASON_ROTATE, w.alice, w.bob, w.carol))
	other := mtest.NewMeetingID(2)
	require.NoError(t, w.create(other, w.bob, types.Policy{}))
	retention := max(w.blocksUntilCreateExpired(t, w.mid), w.blocksUntilCreateExpired(t, other))
	setParams(t, f, func(p *types.Params) { p.EndBlockBudget = budget; p.RetentionBlocks = uint64(retention) })
	w.end(t, w.mid)
	w.end(t, other)
	total := len(records(t, f))
	f.NextBlock(retention)
	for _, id := range [][]byte{w.mid, other} {
		require.GreaterOrEqual(t, f.Ctx.BlockTime().Unix(), w.meeting(t, id).CreateValidUntil)
	}
	require.Equal(t, total, len(records(t, f)), "pruned before the retention period")
	return w, total
}

func TestEndBlockerPruneBudget(t *testing.T) {
	const budget = 2
	w, total := bigEndedMeetings(t, budget)
	f := w.f
	require.Equal(t, 2+5+3+5+5, total) // meetings, requests, epochs, used keys, log entries
	blocks := 0
	for len(records(t, f)) > 0 {
		before := records(t, f)
		f.NextBlock(1)
		blocks++
		n := touched(before, records(t, f))
		require.LessOrEqualf(t, n, budget, "block %d touched %d records", blocks, n)
		require.Positive(t, n, "pruning stalled")
		mtest.CheckInvariants(t, f)
		require.Less(t, blocks, 100)
	}
	require.GreaterOrEqual(t, blocks, (total+budget-1)/budget)
	require.Equal(t, []*types.EventMeetingPruned{{MeetingId: mtest.NewMeetingID(2), Cause: "retention"}}, mtest.Events[*types.EventMeetingPruned](t, f))
	gs := f.Export(t)
	require.Empty(t, gs.Meetings)
	require.Empty(t, gs.Requests)
	require.Empty(t, gs.Epochs)
	for _, id := range [][]byte{w.mid, mtest.NewMeetingID(2)} {
		n, err := countDeviceIndex(f, id)
		require.NoError(t, err)
		require.Zero(t, n)
		has, err := f.Keeper.PendingCount.Has(f.Ctx, id)
		require.NoError(t, err)
		require.False(t, has)
	}
	require.NoError(t, f.Keeper.PruneQueue.Walk(f.Ctx, nil, func(k collections.Pair[int64, []byte]) (bool, error) {
		return true, fmt.Errorf("prune queue still holds %x at %d", k.K2(), k.K1())
	}))
}

// The EndBlocker touches at most end_block_budget records per block, also
// when an expired meeting has more pending requests than that: it expires
// them over several blocks (the meeting, which already refuses every
// message, stays open meanwhile) and ends the meeting when none is left.
func TestEndBlockerExpiryTouchesAtMostTheBudget(t *testing.T) {
	w := newWorld(t)
	f := w.f
	const budget = 2
	setParams(t, f, func(p *types.Params) { p.EndBlockBudget = budget })
	pending := []dev{w.bob, w.carol, w.dave, w.erin1}
	for _, d := range pending {
		require.NoError(t, w.request(w.mid, d))
	}
	w.expire(t, w.mid)
	var expired []*types.EventRequestExpired
	var ended []*types.EventMeetingEnded
	blocks := 0
	for w.meeting(t, w.mid).Status == types.Status_STATUS_OPEN {
		require.Less(t, blocks, 20, "expiry stalled")
		if blocks > 0 {
			before := snapshot(t, f)
			requireRejected(t, f, before, w.request(w.mid, w.erin2), types.ErrMeetingExpired)
		}
		before := records(t, f)
		f.NextBlock(1)
		blocks++
		n := touched(before, records(t, f))
		require.LessOrEqualf(t, n, budget, "one EndBlocker with end_block_budget %d touched %d records", budget, n)
		require.Positivef(t, n, "block %d made no progress", blocks)
		expired = append(expired, mtest.Events[*types.EventRequestExpired](t, f)...)
		ended = append(ended, mtest.Events[*types.EventMeetingEnded](t, f)...)
		mtest.CheckInvariants(t, f)
	}
	// 4 requests and the meeting: at least 3 blocks.
	require.GreaterOrEqual(t, blocks, (len(pending)+1+budget-1)/budget)
	for _, d := range pending {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_EXPIRED, w.status(t, w.mid, d))
	}
	require.Len(t, expired, len(pending), "one EventRequestExpired per expired request")
	require.Equal(t, []*types.EventMeetingEnded{{MeetingId: w.mid, Cause: "expired"}}, ended)
	has, err := f.Keeper.ExpiryQueue.Has(f.Ctx, collections.Join(w.meeting(t, w.mid).ExpiresAt, w.mid))
	require.NoError(t, err)
	require.False(t, has)
}

// A chain may be exported at any height, also while an ended meeting is
// half pruned; the export must then still be a valid genesis.
func TestExportWhilePruningIsValidGenesis(t *testing.T) {
	w, _ := bigEndedMeetings(t, 2)
	f := w.f
	halfPruned := false
	for range 10 {
		f.NextBlock(1)
		reqs, err := countDeviceIndex(f, w.mid)
		require.NoError(t, err)
		has, err := f.Keeper.Meetings.Has(f.Ctx, w.mid)
		require.NoError(t, err)
		halfPruned = halfPruned || (has && reqs < 4)
		gs := f.Export(t)
		require.NoErrorf(t, gs.Validate(), "export at height %d", f.Ctx.BlockHeight())
		g := mtest.NewFixture(t)
		require.NoError(t, g.Keeper.InitGenesis(g.Ctx, gs))
	}
	require.True(t, halfPruned, "no export was made while a meeting was half pruned")
	for _, id := range [][]byte{w.mid, mtest.NewMeetingID(2)} {
		has, err := f.Keeper.Meetings.Has(f.Ctx, id)
		require.NoError(t, err)
		require.False(t, has, "pruning did not finish within the test")
	}
}
