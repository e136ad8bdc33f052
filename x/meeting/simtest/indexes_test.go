package simtest

import (
	"fmt"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	meetingkeeper "github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

// checkIndexes compares every index, queue and counter of keeper k with
// what its meetings and requests imply (README, State) and, given the
// model, its used keys with every key each meeting accepted.
func (r *run) checkIndexes(ctx sdk.Context, k *meetingkeeper.Keeper, gs *types.GenesisState, md *model) {
	r.t.Helper()
	retention := int64(r.s.params(r.t).RetentionBlocks)
	h := ctx.BlockHeight()
	var leader, member, device, expiry, pending, count []string
	pruneAt := map[string][2]int64{} // meeting -> allowed prune-queue heights
	var pruneIDs []string
	last := map[string]types.Epoch{}
	for _, e := range gs.Epochs {
		last[string(e.MeetingId)] = e
	}
	perMeeting := map[string]uint64{}
	for _, c := range gs.Meetings {
		if c.Status == types.Status_STATUS_OPEN {
			leader = append(leader, fmt.Sprintf("%s|%x", c.LeaderUser, c.MeetingId))
			expiry = append(expiry, fmt.Sprintf("%d|%x", c.ExpiresAt, c.MeetingId))
			if e, ok := last[string(c.MeetingId)]; ok && e.Epoch == c.Epoch {
				for _, mem := range e.Members {
					member = append(member, fmt.Sprintf("%s|%x", mem.UserId, c.MeetingId))
				}
			}
		} else {
			// Queued at ended+retention; once due, a meeting whose creation
			// signature is still valid is put back to the next height.
			due := c.EndedHeight + retention
			pruneAt[string(c.MeetingId)] = [2]int64{due, max(due, h+1)}
			pruneIDs = append(pruneIDs, fmt.Sprintf("%x", c.MeetingId))
		}
	}
	for _, rq := range gs.Requests {
		device = append(device, fmt.Sprintf("%s|%s|%x", rq.UserId, rq.DeviceId, rq.MeetingId))
		if rq.Status == types.RequestStatus_REQUEST_STATUS_PENDING {
			pending = append(pending, fmt.Sprintf("%d|%x|%s/%s", rq.Height, rq.MeetingId, rq.UserId, rq.DeviceId))
			perMeeting[string(rq.MeetingId)]++
		}
	}
	for _, id := range sortedKeys(perMeeting) {
		count = append(count, fmt.Sprintf("%x|%d", id, perMeeting[id]))
	}

	var gotLeader, gotMember, gotDevice, gotExpiry, gotPending, gotPruneIDs, gotCount []string
	walk := func(name string, err error) {
		if err != nil {
			r.fatalf("walk %s: %v", name, err)
		}
	}
	walk("leader index", k.LeaderIndex.Walk(ctx, nil, func(p collections.Pair[string, []byte]) (bool, error) {
		gotLeader = append(gotLeader, fmt.Sprintf("%s|%x", p.K1(), p.K2()))
		return false, nil
	}))
	walk("member index", k.MemberIndex.Walk(ctx, nil, func(p collections.Pair[string, []byte]) (bool, error) {
		gotMember = append(gotMember, fmt.Sprintf("%s|%x", p.K1(), p.K2()))
		return false, nil
	}))
	walk("device index", k.DeviceIndex.Walk(ctx, nil, func(p collections.Triple[string, string, []byte]) (bool, error) {
		gotDevice = append(gotDevice, fmt.Sprintf("%s|%s|%x", p.K1(), p.K2(), p.K3()))
		return false, nil
	}))
	walk("expiry queue", k.ExpiryQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		gotExpiry = append(gotExpiry, fmt.Sprintf("%d|%x", p.K1(), p.K2()))
		return false, nil
	}))
	walk("pending queue", k.PendingQueue.Walk(ctx, nil, func(p collections.Triple[int64, []byte, string]) (bool, error) {
		gotPending = append(gotPending, fmt.Sprintf("%d|%x|%s", p.K1(), p.K2(), p.K3()))
		return false, nil
	}))
	walk("prune queue", k.PruneQueue.Walk(ctx, nil, func(p collections.Pair[int64, []byte]) (bool, error) {
		gotPruneIDs = append(gotPruneIDs, fmt.Sprintf("%x", p.K2()))
		if at, ok := pruneAt[string(p.K2())]; ok && (p.K1() < at[0] || p.K1() > at[1]) {
			r.fatalf("PruneQueue holds meeting %x at height %d, want %d..%d", p.K2(), p.K1(), at[0], at[1])
		}
		return false, nil
	}))
	walk("pending count", k.PendingCount.Walk(ctx, nil, func(id []byte, n uint64) (bool, error) {
		gotCount = append(gotCount, fmt.Sprintf("%x|%d", id, n))
		return false, nil
	}))
	for _, c := range []struct {
		name      string
		want, got []string
	}{
		{"LeaderIndex", leader, gotLeader},
		{"MemberIndex", member, gotMember},
		{"DeviceIndex", device, gotDevice},
		{"ExpiryQueue", expiry, gotExpiry},
		{"PendingQueue", pending, gotPending},
		{"PruneQueue", pruneIDs, gotPruneIDs},
		{"PendingCount", count, gotCount},
	} {
		want := slices.Compact(slices.Sorted(slices.Values(c.want)))
		got := slices.Sorted(slices.Values(c.got))
		if !slices.Equal(want, got) {
			r.fatalf("%s holds %v, the records imply %v", c.name, got, want)
		}
	}
	if md == nil {
		return
	}
	used := map[string][]string{}
	walk("used keys", k.UsedEphKeys.Walk(ctx, nil, func(p collections.Pair[[]byte, []byte]) (bool, error) {
		used[string(p.K1())] = append(used[string(p.K1())], string(p.K2()))
		return false, nil
	}))
	for _, m := range md.order {
		want, got := sortedKeys(m.usedKeys), used[string(m.id)]
		if m.pruned {
			want = nil
		}
		if md.prunable(m, h, ctx.BlockTime().Unix()) {
			if slices.ContainsFunc(got, func(x string) bool { return m.usedKeys[x] == nil }) {
				r.fatalf("meeting %x, being pruned, gained a used key", m.id)
			}
			continue
		}
		if !slices.Equal(want, got) {
			r.fatalf("meeting %x: %d used keys stored, %d keys accepted", m.id, len(got), len(want))
		}
	}
}
