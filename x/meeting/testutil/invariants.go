package testutil

import (
	"fmt"
	"github.com/parleynet/parley/internal/markset"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// CheckInvariants fails tb unless x/meeting's state is consistent:
//
//   - the exported genesis validates;
//   - each meeting's epochs are exactly 1..meeting.epoch, in order, with
//     sorted rosters whose RosterHash is the stored one, and the meeting's
//     roster_hash and key_commitment are the last epoch's;
//   - every member of a meeting's current roster has a request that is
//     ADMITTED or LEFT (a member that left after the last commit stays in
//     the roster until the next one), or PENDING/EXPIRED only if made after
//     that commit (it left and asked to join again); never UNSPECIFIED or
//     REMOVED; and every ADMITTED request is in the current roster (or is
//     the leader's, before the first epoch);
//   - the leader's request is ADMITTED and holds the meeting's leader_eph_pk;
//   - ended meetings have no PENDING request;
//   - PendingCount and PendingQueue match the PENDING requests (a
//     scheduled meeting's lobby requests may be out of the queue), and the
//     leader, member, device, expiry, prune and unheld indexes match the
//     records (an ended scheduled meeting never held is in the unheld
//     queue instead of the prune queue);
//   - every meeting's leader key and every request's key are among the
//     meeting's used ephemeral keys, and no used key belongs to a meeting
//     that is gone;
//   - each meeting's request log is exactly 1..request_seq, entry 1 is the
//     creation, every request's seq is an entry naming it (written at the
//     request's height if it is the request itself, not before it if it is
//     a rotation), and no log entry belongs to a meeting that is gone.
//
// A meeting whose prune height has come may be half deleted, so only its
// indexes are checked, and the export must leave it out.
func CheckInvariants(tb testing.TB, f *Fixture) {
	tb.Helper()
	k, ctx := f.Keeper, f.Ctx
	full := f.Export(tb)

	// A meeting whose prune height has come may be half deleted (the
	// EndBlocker prunes a bounded number of records per block); only its
	// indexes are checked.
	pruning := map[string]bool{}
	require.NoError(tb, k.PruneQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		if p.K1() <= ctx.BlockHeight() {
			pruning[string(p.K2())] = true
		}
		return false, nil
	}))
	unheld := map[string]bool{}
	require.NoError(tb, k.UnheldQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		unheld[string(p.K2())] = true
		m, err := k.Meetings.Get(ctx, p.K2())
		require.NoErrorf(tb, err, "unheld queue names meeting %x, which is gone", p.K2())
		require.Equalf(tb, m.UnheldDeadline(), p.K1(), "meeting %x: unheld queue deadline", p.K2())
		if p.K1() <= ctx.BlockTime().Unix() && m.Status == types.Status_STATUS_ENDED {
			pruning[string(p.K2())] = true
		}
		return false, nil
	}))
	gs := *full
	for _, m := range gs.Meetings {
		require.Falsef(tb, pruning[string(m.MeetingId)], "meeting %x is due for pruning but exported", m.MeetingId)
	}
	for _, r := range gs.Requests {
		require.Falsef(tb, pruning[string(r.MeetingId)], "request %s/%s of meeting %x is due for pruning but exported", r.UserId, r.DeviceId, r.MeetingId)
	}
	for _, e := range gs.Epochs {
		require.Falsef(tb, pruning[string(e.MeetingId)], "epoch %d of meeting %x is due for pruning but exported", e.Epoch, e.MeetingId)
	}
	require.NoError(tb, gs.Validate(), "exported genesis does not validate")

	// The device index covers every stored request, those of meetings
	// being pruned included, so it is read from the store.
	var wantDevice []string
	require.NoError(tb, k.Requests.Walk(ctx, nil, func(_ collections.Pair[[]byte, string], r types.JoinRequest) (bool, error) {
		wantDevice = append(wantDevice, fmt.Sprintf("%s/%s/%x", r.UserId, r.DeviceId, r.MeetingId))
		return false, nil
	}))

	// Used ephemeral keys: those of the leaders and of the requests are
	// there; none is left of a meeting that is gone.
	used := map[string]bool{}
	require.NoError(tb, k.UsedEphKeys.Walk(ctx, nil, func(p collections.Pair[[]byte, []byte]) (bool, error) {
		used[fmt.Sprintf("%x/%x", p.K1(), p.K2())] = true
		has, err := k.Meetings.Has(ctx, p.K1())
		require.NoError(tb, err)
		require.Truef(tb, has, "used ephemeral key %x of meeting %x, which is gone", p.K2(), p.K1())
		return false, nil
	}))
	for _, m := range gs.Meetings {
		require.Truef(tb, used[fmt.Sprintf("%x/%x", m.MeetingId, types.EphKeyHash(m.LeaderEphPk))],
			"meeting %x: leader_eph_pk is not recorded as used", m.MeetingId)
	}
	for _, r := range gs.Requests {
		require.Truef(tb, used[fmt.Sprintf("%x/%x", r.MeetingId, types.EphKeyHash(r.EphPk))],
			"meeting %x: the key of %s/%s's request is not recorded as used", r.MeetingId, r.UserId, r.DeviceId)
	}

	checkRequestLog(tb, f, &gs)

	byMeeting := map[string][]types.JoinRequest{}
	for _, r := range gs.Requests {
		byMeeting[string(r.MeetingId)] = append(byMeeting[string(r.MeetingId)], r)
	}
	epochs := map[string][]types.Epoch{}
	for _, e := range gs.Epochs {
		epochs[string(e.MeetingId)] = append(epochs[string(e.MeetingId)], e)
	}

	var wantLeader, wantMember, wantExpiry, wantPending []string
	var wantPrune []string
	for id := range pruning {
		if !unheld[id] {
			wantPrune = append(wantPrune, fmt.Sprintf("%x", id))
		}
	}
	scheduled := map[string]bool{}
	wantCount := map[string]uint64{}
	for _, m := range gs.Meetings {
		id := string(m.MeetingId)
		name := fmt.Sprintf("meeting %x", m.MeetingId)
		es := epochs[id]
		held := false
		for _, e := range es {
			held = held || len(e.Members) > 1
		}
		require.Equalf(tb, m.Scheduled() && !held, unheld[id], "%s: in the unheld queue (scheduled %v, held %v)", name, m.Scheduled(), held)
		scheduled[id] = m.Scheduled()
		require.Lenf(tb, es, int(m.Epoch), "%s: epoch %d", name, m.Epoch)
		for i, e := range es {
			require.EqualValuesf(tb, i+1, e.Epoch, "%s: epochs out of sequence", name)
			require.Truef(tb, sort.SliceIsSorted(e.Members, func(a, b int) bool {
				return e.Members[a].UserId < e.Members[b].UserId ||
					(e.Members[a].UserId == e.Members[b].UserId && e.Members[a].DeviceId < e.Members[b].DeviceId)
			}), "%s epoch %d: roster not in canonical order", name, e.Epoch)
			require.Equalf(tb, types.RosterHash(m.MeetingId, e.Members), e.RosterHash, "%s epoch %d: roster hash", name, e.Epoch)
		}
		var roster []types.Member
		var rosterHeight int64
		if m.Epoch > 0 {
			last := es[len(es)-1]
			require.Equalf(tb, last.RosterHash, m.RosterHash, "%s: roster_hash is not the last epoch's", name)
			require.Equalf(tb, last.KeyCommitment, m.KeyCommitment, "%s: key_commitment is not the last epoch's", name)
			roster, rosterHeight = last.Members, last.Height
		} else {
			require.Emptyf(tb, m.RosterHash, "%s: roster_hash before the first epoch", name)
		}

		reqs := map[identitytypes.DeviceRef]types.JoinRequest{}
		for _, r := range byMeeting[id] {
			reqs[r.Ref()] = r
			switch r.Status {
			case types.RequestStatus_REQUEST_STATUS_PENDING:
				require.Equalf(tb, types.Status_STATUS_OPEN, m.Status, "%s: ended with pending request %s/%s", name, r.UserId, r.DeviceId)
				wantCount[id]++
				if !m.Scheduled() {
					wantPending = append(wantPending, fmt.Sprintf("%d/%x/%s/%s", r.Height, r.MeetingId, r.UserId, r.DeviceId))
				}
			case types.RequestStatus_REQUEST_STATUS_ADMITTED:
				inRoster := types.SenderIndex(roster, r.UserId, r.DeviceId) >= 0
				isLeader := r.UserId == m.LeaderUser && r.DeviceId == m.LeaderDevice
				require.Truef(tb, inRoster || (m.Epoch == 0 && isLeader), "%s: %s/%s admitted but not in the roster", name, r.UserId, r.DeviceId)
			}
		}
		for _, mem := range roster {
			r, ok := reqs[mem.Ref()]
			require.Truef(tb, ok, "%s: roster member %s/%s has no request", name, mem.UserId, mem.DeviceId)
			switch r.Status {
			case types.RequestStatus_REQUEST_STATUS_ADMITTED, types.RequestStatus_REQUEST_STATUS_LEFT:
			case types.RequestStatus_REQUEST_STATUS_PENDING, types.RequestStatus_REQUEST_STATUS_EXPIRED:
				require.GreaterOrEqualf(tb, r.Height, rosterHeight, "%s: roster member %s/%s is %s from before the commit", name, mem.UserId, mem.DeviceId, r.Status)
			default:
				require.Failf(tb, "bad roster member", "%s: roster member %s/%s is %s", name, mem.UserId, mem.DeviceId, r.Status)
			}
		}
		lr, ok := reqs[identitytypes.DeviceRef{User: m.LeaderUser, Device: m.LeaderDevice}]
		require.Truef(tb, ok, "%s: the leader has no request", name)
		require.Equalf(tb, types.RequestStatus_REQUEST_STATUS_ADMITTED, lr.Status, "%s: the leader's request", name)
		require.Equalf(tb, m.LeaderEphPk, lr.EphPk, "%s: leader_eph_pk is not the leader's request key", name)

		switch m.Status {
		case types.Status_STATUS_OPEN:
			wantLeader = append(wantLeader, fmt.Sprintf("%s/%x", m.LeaderUser, m.MeetingId))
			wantExpiry = append(wantExpiry, fmt.Sprintf("%d/%x", m.ExpiresAt, m.MeetingId))
			for _, mem := range roster {
				wantMember = append(wantMember, fmt.Sprintf("%s/%x", mem.UserId, m.MeetingId))
			}
		case types.Status_STATUS_ENDED:
			// The prune height depends on the retention when it ended.
			if !unheld[id] {
				wantPrune = append(wantPrune, fmt.Sprintf("%x", m.MeetingId))
			}
		default:
			require.Failf(tb, "bad status", "%s: status %s", name, m.Status)
		}
	}

	gotCount := map[string]uint64{}
	require.NoError(tb, k.PendingCount.Walk(ctx, nil, func(id []byte, n uint64) (bool, error) {
		gotCount[string(id)] = n
		return false, nil
	}))
	require.Equal(tb, wantCount, gotCount, "PendingCount")

	pairs := func(ks markset.Set[collections.Pair[string, []byte]]) []string {
		var out []string
		require.NoError(tb, ks.Walk(ctx, nil, func(p collections.Pair[string, []byte]) (bool, error) {
			out = append(out, fmt.Sprintf("%s/%x", p.K1(), p.K2()))
			return false, nil
		}))
		return out
	}
	var gotExpiry []string
	require.NoError(tb, k.ExpiryQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		gotExpiry = append(gotExpiry, fmt.Sprintf("%d/%x", p.K1(), p.K2()))
		return false, nil
	}))
	var gotDevice, gotPending []string
	require.NoError(tb, k.DeviceIndex.Walk(ctx, nil, func(t collections.Triple[string, string, []byte]) (bool, error) {
		gotDevice = append(gotDevice, fmt.Sprintf("%s/%s/%x", t.K1(), t.K2(), t.K3()))
		return false, nil
	}))
	require.NoError(tb, k.PendingQueue.Walk(ctx, nil, func(t collections.Triple[int64, []byte, string]) (bool, error) {
		if !scheduled[string(t.K2())] {
			gotPending = append(gotPending, fmt.Sprintf("%d/%x/%s", t.K1(), t.K2(), t.K3()))
		}
		return false, nil
	}))
	sameSet(tb, "LeaderIndex", wantLeader, pairs(k.LeaderIndex))
	sameSet(tb, "MemberIndex", wantMember, pairs(k.MemberIndex))
	sameSet(tb, "ExpiryQueue", wantExpiry, gotExpiry)
	var gotPrune []string
	require.NoError(tb, k.PruneQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		gotPrune = append(gotPrune, fmt.Sprintf("%x", p.K2()))
		return false, nil
	}))
	require.Equal(tb, len(slices.Compact(slices.Sorted(slices.Values(gotPrune)))), len(gotPrune), "a meeting is queued twice for pruning")
	sameSet(tb, "PruneQueue", wantPrune, gotPrune)
	sameSet(tb, "DeviceIndex", wantDevice, gotDevice)
	sameSet(tb, "PendingQueue", wantPending, gotPending)
}

// sameSet compares two lists as sets (want may repeat an entry, e.g. two
// devices of one user in a roster give one MemberIndex entry).
func sameSet(tb testing.TB, what string, want, got []string) {
	tb.Helper()
	norm := func(s []string) []string {
		s = slices.Clone(s)
		slices.Sort(s)
		return slices.Compact(s)
	}
	require.Equalf(tb, norm(want), norm(got), "%s does not match the records", what)
}

// checkRequestLog is the request log part of CheckInvariants.
func checkRequestLog(tb testing.TB, f *Fixture, gs *types.GenesisState) {
	tb.Helper()
	k, ctx := f.Keeper, f.Ctx
	require.NoError(tb, k.RequestLog.Walk(ctx, nil, func(p collections.Pair[[]byte, uint64], _ types.RequestLogEntry) (bool, error) {
		has, err := k.Meetings.Has(ctx, p.K1())
		require.NoError(tb, err)
		require.Truef(tb, has, "log entry %d of meeting %x, which is gone", p.K2(), p.K1())
		return false, nil
	}))
	logs := map[string][]types.RequestLogRecord{}
	for _, l := range gs.RequestLog {
		logs[string(l.MeetingId)] = append(logs[string(l.MeetingId)], l)
	}
	for _, m := range gs.Meetings {
		log := logs[string(m.MeetingId)]
		require.Lenf(tb, log, int(m.RequestSeq), "meeting %x: request_seq %d", m.MeetingId, m.RequestSeq)
		for i, l := range log {
			require.EqualValuesf(tb, i+1, l.Seq, "meeting %x: log out of sequence", m.MeetingId)
			require.Equalf(tb, i == 0, l.Entry.Kind == types.LogKind_LOG_KIND_CREATE, "meeting %x: entry %d is %s", m.MeetingId, l.Seq, l.Entry.Kind)
		}
	}
	for _, r := range gs.Requests {
		log := logs[string(r.MeetingId)]
		require.Truef(tb, r.Seq >= 1 && r.Seq <= uint64(len(log)), "request %s/%s of %x: seq %d outside the log", r.UserId, r.DeviceId, r.MeetingId, r.Seq)
		e := log[r.Seq-1].Entry
		require.Equalf(tb, r.Ref(), identitytypes.DeviceRef{User: e.UserId, Device: e.DeviceId}, "request of %x: seq %d names another device", r.MeetingId, r.Seq)
		if e.Kind == types.LogKind_LOG_KIND_ROTATE {
			require.GreaterOrEqualf(tb, e.Height, r.Height, "request %s/%s of %x: rotated before it was made", r.UserId, r.DeviceId, r.MeetingId)
		} else {
			require.Equalf(tb, r.Height, e.Height, "request %s/%s of %x: logged at another height", r.UserId, r.DeviceId, r.MeetingId)
		}
	}
}
