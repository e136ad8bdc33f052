package simtest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	meetingkeeper "github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

// checkInvariants reads the chain after a block and checks what must hold
// whatever the messages were:
//
//  1. a meeting's stored epochs are exactly 1..meeting.epoch, each one more
//     than the last, at non-decreasing heights (a meeting the EndBlocker
//     may be pruning can have lost a prefix of them: it deletes a bounded
//     number of records per block, and the export leaves such a meeting
//     out);
//  2. meeting.roster_hash is the last epoch's, every epoch's roster hash is
//     RosterHash over its members, and members are in canonical order;
//  3. every member of the latest epoch had, when it was committed, a
//     pending or admitted request from an active device, and its request
//     is now ADMITTED or LEFT (PENDING, EXPIRED or LEFT if it asked again
//     after that commit), never PENDING once the meeting ended;
//  4. a member left out of an epoch appears in a later one only with a
//     request made after the last epoch it was in;
//  5. an ended meeting has no PENDING request; a pruned meeting has no
//     requests, epochs, used keys, log entries, counter or index entries
//     left;
//  6. PendingCount is the number of PENDING requests;
//
// and, beyond those: every index, queue and counter is exactly what the
// records imply, the used-key set is every key the meeting accepted, an
// open meeting's leader holds an admitted request with leader_eph_pk,
// only roster members are ADMITTED, and the exported genesis holds every
// meeting but those being pruned and passes Validate.
func (r *run) checkInvariants() {
	r.t.Helper()
	s, md := r.s, r.md
	h := s.height()
	gs := readState(r, s.ctx, s.meeting)
	reqs := map[string][]types.JoinRequest{}
	for _, rq := range gs.Requests {
		reqs[string(rq.MeetingId)] = append(reqs[string(rq.MeetingId)], rq)
	}
	epochs := map[string][]types.Epoch{}
	for _, e := range gs.Epochs {
		epochs[string(e.MeetingId)] = append(epochs[string(e.MeetingId)], e)
	}
	for _, c := range gs.Meetings {
		m := md.meeting(c.MeetingId)
		if m == nil || m.pruned {
			r.fatalf("chain holds meeting %x that the simulation never created or saw pruned", c.MeetingId)
		}
		pruning := md.prunable(m, h, s.now())
		eps := epochs[string(c.MeetingId)]
		r.checkEpochs(c, m, eps, pruning)
		r.checkLatestMembers(c, m, eps, reqs[string(c.MeetingId)], pruning)
		r.checkRemovals(m, eps)
		var pending uint64
		for _, rq := range reqs[string(c.MeetingId)] {
			if rq.Status == types.RequestStatus_REQUEST_STATUS_PENDING {
				pending++
			}
		}
		if c.Status == types.Status_STATUS_ENDED && pending > 0 {
			r.fatalf("ended meeting %x has %d pending requests", c.MeetingId, pending)
		}
		count, err := s.meeting.PendingCount.Get(s.ctx, c.MeetingId)
		if err != nil && !errors.Is(err, collections.ErrNotFound) {
			r.fatalf("read pending count: %v", err)
		}
		if count != pending {
			r.fatalf("meeting %x: PendingCount %d, but %d requests are pending", c.MeetingId, count, pending)
		}
		if !pruning {
			r.checkLeader(c, eps, reqs[string(c.MeetingId)])
		}
	}
	for _, m := range md.order {
		if !m.pruned {
			continue
		}
		if n, e := len(reqs[string(m.id)]), len(epochs[string(m.id)]); n+e > 0 {
			r.fatalf("pruned meeting %x left %d requests and %d epochs", m.id, n, e)
		}
		if has, _ := s.meeting.PendingCount.Has(s.ctx, m.id); has {
			r.fatalf("pruned meeting %x left its pending counter", m.id)
		}
		left := 0
		r.must(s.meeting.UsedEphKeys.Walk(s.ctx, collections.NewPrefixedPairRange[[]byte, []byte](m.id),
			func(collections.Pair[[]byte, []byte]) (bool, error) { left++; return false, nil }), "walk used keys")
		if left > 0 {
			r.fatalf("pruned meeting %x left %d used keys", m.id, left)
		}
		r.must(s.meeting.RequestLog.Walk(s.ctx, collections.NewPrefixedPairRange[[]byte, uint64](m.id),
			func(collections.Pair[[]byte, uint64], types.RequestLogEntry) (bool, error) { left++; return false, nil }), "walk request log")
		if left > 0 {
			r.fatalf("pruned meeting %x left %d log entries", m.id, left)
		}
	}
	r.checkIndexes(s.ctx, s.meeting, gs, md)
	exported := s.export(r.t)
	if err := exported.Validate(); err != nil {
		r.fatalf("the exported genesis fails Validate: %v", err)
	}
	// The export holds every meeting but those the EndBlocker may be
	// deleting.
	var want, got []string
	for _, m := range md.order {
		if !m.pruned && !md.prunable(m, h, s.now()) {
			want = append(want, fmt.Sprintf("%x", m.id))
		}
	}
	for _, c := range exported.Meetings {
		got = append(got, fmt.Sprintf("%x", c.MeetingId))
	}
	if slices.Sort(want); !slices.Equal(want, got) {
		r.fatalf("the export holds meetings %v, want %v", got, want)
	}
}

// readState reads every meeting, request and epoch of a keeper, those
// being pruned included (ExportGenesis leaves them out).
func readState(r *run, ctx sdk.Context, k *meetingkeeper.Keeper) *types.GenesisState {
	r.t.Helper()
	gs := &types.GenesisState{}
	r.must(k.Meetings.Walk(ctx, nil, func(_ []byte, m types.Meeting) (bool, error) {
		gs.Meetings = append(gs.Meetings, m)
		return false, nil
	}), "walk meetings")
	r.must(k.Requests.Walk(ctx, nil, func(_ meetingkeeper.RequestKey, rq types.JoinRequest) (bool, error) {
		gs.Requests = append(gs.Requests, rq)
		return false, nil
	}), "walk requests")
	r.must(k.Epochs.Walk(ctx, nil, func(_ collections.Pair[[]byte, uint64], e types.Epoch) (bool, error) {
		gs.Epochs = append(gs.Epochs, e)
		return false, nil
	}), "walk epochs")
	return gs
}

// checkEpochs is invariants 1 and 2.
func (r *run) checkEpochs(c types.Meeting, m *meetingState, eps []types.Epoch, pruning bool) {
	r.t.Helper()
	if uint64(len(eps)) != c.Epoch || (len(eps) > 0 && eps[0].Epoch != 1) {
		first := uint64(0)
		if len(eps) > 0 {
			first = eps[0].Epoch
		}
		// Pruning deletes epochs from the first and the meeting last.
		if !pruning || (len(eps) > 0 && eps[len(eps)-1].Epoch != c.Epoch) {
			r.fatalf("meeting %x (status %v, epoch %d, ended at %d) stores %d epochs starting at %d, want exactly 1..%d",
				c.MeetingId, c.Status, c.Epoch, c.EndedHeight, len(eps), first, c.Epoch)
		}
	}
	for i, e := range eps {
		if i > 0 && (e.Epoch != eps[i-1].Epoch+1 || e.Height < eps[i-1].Height) {
			r.fatalf("meeting %x: epoch %d@%d follows epoch %d@%d", c.MeetingId, e.Epoch, e.Height, eps[i-1].Epoch, eps[i-1].Height)
		}
		if e.Height < c.CreatedHeight || e.Height > r.s.height() {
			r.fatalf("meeting %x: epoch %d at height %d, outside %d..%d", c.MeetingId, e.Epoch, e.Height, c.CreatedHeight, r.s.height())
		}
		sorted := slices.Clone(e.Members)
		types.SortMembers(sorted)
		if !sameMembers(sorted, e.Members) {
			r.fatalf("meeting %x epoch %d: members not in canonical order: %v", c.MeetingId, e.Epoch, e.Members)
		}
		for j := 1; j < len(e.Members); j++ {
			if e.Members[j].UserId == e.Members[j-1].UserId && e.Members[j].DeviceId == e.Members[j-1].DeviceId {
				r.fatalf("meeting %x epoch %d lists %s/%s twice", c.MeetingId, e.Epoch, e.Members[j].UserId, e.Members[j].DeviceId)
			}
		}
		if !bytes.Equal(types.RosterHash(c.MeetingId, e.Members), e.RosterHash) {
			r.fatalf("meeting %x epoch %d: roster_hash is not RosterHash(members)", c.MeetingId, e.Epoch)
		}
		if e.Epoch <= uint64(len(m.commits)) && e.Height != m.commits[e.Epoch-1].height {
			r.fatalf("meeting %x epoch %d stored at height %d, committed at %d", c.MeetingId, e.Epoch, e.Height, m.commits[e.Epoch-1].height)
		}
	}
	switch {
	case c.Epoch == 0 && (len(c.RosterHash) > 0 || len(c.KeyCommitment) > 0):
		r.fatalf("meeting %x has a roster hash or commitment before its first epoch", c.MeetingId)
	case c.Epoch > 0 && len(eps) > 0 && eps[len(eps)-1].Epoch == c.Epoch:
		last := eps[len(eps)-1]
		if !bytes.Equal(c.RosterHash, last.RosterHash) || !bytes.Equal(c.KeyCommitment, last.KeyCommitment) {
			r.fatalf("meeting %x: roster hash or commitment differs from epoch %d's", c.MeetingId, c.Epoch)
		}
	}
}

// checkLatestMembers is invariant 3.
func (r *run) checkLatestMembers(c types.Meeting, m *meetingState, eps []types.Epoch, reqs []types.JoinRequest, pruning bool) {
	r.t.Helper()
	if c.Epoch == 0 || len(eps) == 0 || eps[len(eps)-1].Epoch != c.Epoch {
		return
	}
	rec := m.commits[c.Epoch-1]
	for _, mem := range eps[len(eps)-1].Members {
		k := memberKey(mem.UserId, mem.DeviceId)
		if !rec.eligible[k] {
			r.fatalf("meeting %x epoch %d: member %s had no pending or admitted request from an active device at commit", c.MeetingId, c.Epoch, k)
		}
		i := slices.IndexFunc(reqs, func(rq types.JoinRequest) bool { return rq.UserId == mem.UserId && rq.DeviceId == mem.DeviceId })
		if i < 0 {
			if pruning {
				continue
			}
			r.fatalf("meeting %x epoch %d: member %s has no request", c.MeetingId, c.Epoch, k)
		}
		st := reqs[i].Status
		allowed := []types.RequestStatus{types.RequestStatus_REQUEST_STATUS_ADMITTED, types.RequestStatus_REQUEST_STATUS_LEFT}
		if m.lastRequestSeq(k) > rec.seq {
			allowed = []types.RequestStatus{types.RequestStatus_REQUEST_STATUS_PENDING, types.RequestStatus_REQUEST_STATUS_EXPIRED, types.RequestStatus_REQUEST_STATUS_LEFT}
		}
		if !slices.Contains(allowed, st) || (c.Status == types.Status_STATUS_ENDED && st == types.RequestStatus_REQUEST_STATUS_PENDING) {
			r.fatalf("meeting %x (%v) epoch %d: member %s has request status %v, want one of %v",
				c.MeetingId, c.Status, c.Epoch, k, st, allowed)
		}
	}
}

// checkRemovals is invariant 4, over the epochs still stored.
func (r *run) checkRemovals(m *meetingState, eps []types.Epoch) {
	r.t.Helper()
	in := func(e types.Epoch, mem types.Member) bool {
		return types.SenderIndex(e.Members, mem.UserId, mem.DeviceId) >= 0
	}
	for fi := 2; fi < len(eps); fi++ {
		for _, mem := range eps[fi].Members {
			for ei := fi - 2; ei >= 0; ei-- {
				if !in(eps[ei], mem) || in(eps[ei+1], mem) {
					continue
				}
				// mem was in epoch eps[ei], left out of eps[ei+1], back in eps[fi].
				k := memberKey(mem.UserId, mem.DeviceId)
				inInterval := func(lo, hi uint64) bool {
					return slices.ContainsFunc(m.requestSeqs[k], func(q uint64) bool { return lo < q && q < hi })
				}
				lo, drop, hi := m.commits[eps[ei].Epoch-1].seq, m.commits[eps[ei+1].Epoch-1].seq, m.commits[eps[fi].Epoch-1].seq
				if !inInterval(lo, hi) {
					r.fatalf("meeting %x: %s, left out of epoch %d, is back in epoch %d without a new request",
						m.id, k, eps[ei+1].Epoch, eps[fi].Epoch)
				}
				if !inInterval(drop, hi) && fi == len(eps)-1 && eps[fi].Height == r.s.height() && !r.countedEarly[earlyKey(m, k, eps[fi].Epoch)] {
					r.countedEarly[earlyKey(m, k, eps[fi].Epoch)] = true
					r.stats.readmittedEarly++
				}
				break
			}
		}
	}
}

func earlyKey(m *meetingState, member string, epoch uint64) string {
	return fmt.Sprintf("%x/%s/%d", m.id, member, epoch)
}

// checkLeader: the leader of a meeting holds an admitted request with the
// meeting's leader key and, from the first epoch on, is in the roster;
// nobody else is admitted without being in the roster.
func (r *run) checkLeader(c types.Meeting, eps []types.Epoch, reqs []types.JoinRequest) {
	r.t.Helper()
	var roster []types.Member
	if len(eps) > 0 {
		roster = eps[len(eps)-1].Members
	}
	leaderSeen := false
	for _, rq := range reqs {
		isLeader := rq.UserId == c.LeaderUser && rq.DeviceId == c.LeaderDevice
		if isLeader {
			leaderSeen = true
			if rq.Status != types.RequestStatus_REQUEST_STATUS_ADMITTED || !bytes.Equal(rq.EphPk, c.LeaderEphPk) {
				r.fatalf("meeting %x: leader %s/%s has request %v (key matches leader_eph_pk: %v)",
					c.MeetingId, c.LeaderUser, c.LeaderDevice, rq.Status, bytes.Equal(rq.EphPk, c.LeaderEphPk))
			}
		}
		inRoster := types.SenderIndex(roster, rq.UserId, rq.DeviceId) >= 0
		if rq.Status == types.RequestStatus_REQUEST_STATUS_ADMITTED && !inRoster && !(isLeader && c.Epoch == 0) {
			r.fatalf("meeting %x: %s/%s is ADMITTED but not in epoch %d", c.MeetingId, rq.UserId, rq.DeviceId, c.Epoch)
		}
	}
	if !leaderSeen {
		r.fatalf("meeting %x: leader %s/%s has no request", c.MeetingId, c.LeaderUser, c.LeaderDevice)
	}
	if c.Epoch > 0 && types.SenderIndex(roster, c.LeaderUser, c.LeaderDevice) < 0 {
		r.fatalf("meeting %x: leader %s/%s is not in epoch %d", c.MeetingId, c.LeaderUser, c.LeaderDevice, c.Epoch)
	}
}
