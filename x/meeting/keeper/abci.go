package keeper

import (
	"context"
	"strings"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/internal/markset"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// EndBlocker expires meetings and stale pending requests and prunes ended
// meetings. It touches at most end_block_budget items per block; what is
// left waits in its queue for the next block. Each phase gets the budget
// the one before it left.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	budget := int(params.EndBlockBudget)
	if budget, err = k.endExpiredMeetings(ctx, budget); err != nil {
		return err
	}
	if budget, err = k.expireStaleRequests(ctx, params.RequestTtlBlocks, budget); err != nil {
		return err
	}
	if budget, err = k.pruneEndedMeetings(ctx, budget); err != nil {
		return err
	}
	_, err = k.pruneUnheldMeetings(ctx, budget)
	return err
}

// endExpiredMeetings ends meetings past expires_at and returns the budget
// left. Their pending requests expire first, within the budget; a meeting
// with more than the budget left stays in the queue (it already refuses
// every message) until the next block.
func (k *Keeper) endExpiredMeetings(ctx context.Context, budget int) (int, error) {
	now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
	var expired [][]byte
	err := k.ExpiryQueue.Walk(ctx, new(collections.Range[collections.Pair[int64, []byte]]).EndInclusive(collections.Join(now, maxMeetingID)),
		func(key collections.Pair[int64, []byte]) (bool, error) {
			expired = append(expired, key.K2())
			return len(expired) >= budget, nil
		})
	if err != nil {
		return budget, err
	}
	for _, id := range expired {
		if budget <= 0 {
			return budget, nil
		}
		n, more, err := k.expirePending(ctx, id, budget)
		if err != nil {
			return budget, err
		}
		budget -= n
		if more || budget == 0 {
			// It ends at a later block, once its requests are done; more
			// means the budget is spent.
			return budget, nil
		}
		m, err := k.Meetings.Get(ctx, id)
		if err != nil {
			return budget, err
		}
		if err := k.endMeeting(ctx, m, "expired"); err != nil {
			return budget, err
		}
		budget--
	}
	return budget, nil
}

// expireStaleRequests expires requests pending longer than ttlBlocks and
// returns the budget left.
func (k *Keeper) expireStaleRequests(ctx context.Context, ttlBlocks uint64, budget int) (int, error) {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if budget <= 0 || height <= int64(ttlBlocks) {
		return budget, nil
	}
	cutoff := height - int64(ttlBlocks)
	var stale []collections.Triple[int64, []byte, string]
	err := k.PendingQueue.Walk(ctx, new(collections.Range[collections.Triple[int64, []byte, string]]).EndExclusive(collections.Join3(cutoff, []byte{}, "")),
		func(key collections.Triple[int64, []byte, string]) (bool, error) {
			stale = append(stale, key)
			return len(stale) >= budget, nil
		})
	if err != nil {
		return budget, err
	}
	for _, key := range stale {
		ref, err := identitytypes.ParseDeviceRef(key.K3())
		if err != nil {
			return budget, err
		}
		r, err := k.Requests.Get(ctx, types.JoinRequestKey(key.K2(), ref))
		if err != nil {
			return budget, err
		}
		if err := k.setRequestStatus(ctx, &r, types.RequestStatus_REQUEST_STATUS_EXPIRED); err != nil {
			return budget, err
		}
	}
	return budget - len(stale), nil
}

// pruneEndedMeetings deletes ended meetings past their retention
// (requests, epochs, request log, used keys, then the meeting), a bounded
// number of records per block, and returns the budget left.
func (k *Keeper) pruneEndedMeetings(ctx context.Context, budget int) (int, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	now, height := sdkCtx.BlockTime().Unix(), sdkCtx.BlockHeight()
	for budget > 0 {
		var due *collections.Pair[int64, []byte]
		err := k.PruneQueue.Walk(ctx, new(collections.Range[collections.Pair[int64, []byte]]).EndInclusive(collections.Join(height, maxMeetingID)),
			func(key collections.Pair[int64, []byte]) (bool, error) {
				due = &key
				return true, nil
			})
		if err != nil || due == nil {
			return budget, err
		}
		if m, err := k.Meetings.Get(ctx, due.K2()); err == nil && now < m.CreateValidUntil {
			// Its creation signature is still valid: keep the meeting (and
			// so its ID) until it is not, or the creation could be replayed.
			if err := k.PruneQueue.Remove(ctx, *due); err != nil {
				return budget, err
			}
			if err := k.PruneQueue.Set(ctx, collections.Join(height+1, due.K2())); err != nil {
				return budget, err
			}
			budget--
			continue
		}
		var done bool
		if budget, done, err = k.pruneDue(sdkCtx, k.PruneQueue, *due, budget, "retention"); err != nil || !done {
			return budget, err
		}
	}
	return budget, nil
}

// pruneDue prunes the meeting of queue entry due within budget; once it
// is gone whole (done), the entry leaves the queue and EventMeetingPruned
// says why (cause). It returns the budget left.
func (k Keeper) pruneDue(ctx sdk.Context, queue markset.Set[collections.Pair[int64, []byte]], due collections.Pair[int64, []byte], budget int, cause string) (int, bool, error) {
	used, done, err := k.prune(ctx, due.K2(), budget)
	if err != nil {
		return budget, false, err
	}
	budget -= used
	if !done {
		return budget, false, nil
	}
	if err := queue.Remove(ctx, due); err != nil {
		return budget, false, err
	}
	return budget, true, ctx.EventManager().EmitTypedEvent(&types.EventMeetingPruned{MeetingId: due.K2(), Cause: cause})
}

// maxMeetingID sorts after every meeting ID, to make inclusive range ends.
var maxMeetingID = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// prune deletes up to budget records of an ended meeting; done reports
// whether the meeting is gone.
func (k *Keeper) prune(ctx context.Context, id []byte, budget int) (used int, done bool, err error) {
	var reqs []RequestKey
	err = k.Requests.Walk(ctx, collections.NewPrefixedPairRange[[]byte, string](id),
		func(key RequestKey, _ types.JoinRequest) (bool, error) {
			reqs = append(reqs, key)
			return len(reqs) >= budget, nil
		})
	if err != nil {
		return 0, false, err
	}
	for _, key := range reqs {
		if err := k.Requests.Remove(ctx, key); err != nil {
			return used, false, err
		}
		user, device, _ := strings.Cut(key.K2(), "/")
		if err := k.DeviceIndex.Remove(ctx, collections.Join3(user, device, id)); err != nil {
			return used, false, err
		}
		used++
	}
	if used >= budget {
		return used, false, nil
	}
	var epochs []collections.Pair[[]byte, uint64]
	err = k.Epochs.Walk(ctx, collections.NewPrefixedPairRange[[]byte, uint64](id),
		func(key collections.Pair[[]byte, uint64], _ types.Epoch) (bool, error) {
			epochs = append(epochs, key)
			return used+len(epochs) >= budget, nil
		})
	if err != nil {
		return used, false, err
	}
	for _, key := range epochs {
		if err := k.Epochs.Remove(ctx, key); err != nil {
			return used, false, err
		}
		used++
	}
	if used >= budget {
		return used, false, nil
	}
	var log []collections.Pair[[]byte, uint64]
	err = k.RequestLog.Walk(ctx, collections.NewPrefixedPairRange[[]byte, uint64](id),
		func(key collections.Pair[[]byte, uint64], _ types.RequestLogEntry) (bool, error) {
			log = append(log, key)
			return used+len(log) >= budget, nil
		})
	if err != nil {
		return used, false, err
	}
	for _, key := range log {
		if err := k.RequestLog.Remove(ctx, key); err != nil {
			return used, false, err
		}
		used++
	}
	if used >= budget {
		return used, false, nil
	}
	var keys []collections.Pair[[]byte, []byte]
	err = k.UsedEphKeys.Walk(ctx, collections.NewPrefixedPairRange[[]byte, []byte](id),
		func(key collections.Pair[[]byte, []byte]) (bool, error) {
			keys = append(keys, key)
			return used+len(keys) >= budget, nil
		})
	if err != nil {
		return used, false, err
	}
	for _, key := range keys {
		if err := k.UsedEphKeys.Remove(ctx, key); err != nil {
			return used, false, err
		}
		used++
	}
	if used >= budget {
		return used, false, nil
	}
	if err := k.PendingCount.Remove(ctx, id); err != nil {
		return used, false, err
	}
	return used + 1, true, k.Meetings.Remove(ctx, id)
}
