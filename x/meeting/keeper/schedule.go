package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// Scheduled meetings (README, Schedule): a meeting created with starts_at
// is a lobby until then. Requests are accepted and wait; no epoch may
// admit anyone but the leader; lobby requests do not expire by TTL (the
// start may be much further away than request_ttl_blocks). A scheduled
// meeting that never admitted anyone is pruned at its end plus
// UnheldGraceSeconds instead of after retention_blocks.

// validateStart checks a creation's starts_at at block time now: 0
// (unscheduled), or in the future and at most MaxScheduleAhead away.
func validateStart(startsAt, now int64) error {
	switch {
	case startsAt == 0:
		return nil
	case startsAt <= now:
		return types.ErrInvalidSchedule.Wrapf("starts_at %d is not in the future (block time %d); leave it 0 to start now", startsAt, now)
	case startsAt > now+types.MaxScheduleAhead:
		return types.ErrInvalidSchedule.Wrapf("starts_at %d is more than %d s (a year) after block time %d", startsAt, types.MaxScheduleAhead, now)
	}
	return nil
}

// checkStarted refuses, before a scheduled start, a commit whose roster
// holds anyone but the leader: early joiners wait in the lobby. The
// leader alone may commit (its first epoch), which admits no one.
func checkStarted(m types.Meeting, members []types.MemberRef, now int64) error {
	if m.Started(now) {
		return nil
	}
	for _, ref := range members {
		if !sameDevice(ref.UserId, ref.DeviceId, m.LeaderUser, m.LeaderDevice) {
			return types.ErrNotStarted.Wrapf("meeting %x starts at %d (block time %d): %s/%s waits in the lobby until then",
				m.MeetingId, m.StartsAt, now, ref.UserId, ref.DeviceId)
		}
	}
	return nil
}

// addRequest stores a new pending request. Before a scheduled start it
// waits in the lobby: counted against max_pending_requests, but out of the
// TTL queue, so it is still there at the start.
func (k *Keeper) addRequest(ctx context.Context, m types.Meeting, r *types.JoinRequest) error {
	if m.Started(sdk.UnwrapSDKContext(ctx).BlockTime().Unix()) {
		return k.setRequestStatus(ctx, r, types.RequestStatus_REQUEST_STATUS_PENDING)
	}
	r.Status = types.RequestStatus_REQUEST_STATUS_PENDING
	if err := k.addPending(ctx, r.MeetingId, 1); err != nil {
		return err
	}
	return k.Requests.Set(ctx, types.JoinRequestKey(r.MeetingId, r.Ref()), *r)
}

// queueUnheld puts a new scheduled meeting in the unheld queue.
func (k *Keeper) queueUnheld(ctx context.Context, m types.Meeting) error {
	if !m.Scheduled() {
		return nil
	}
	return k.UnheldQueue.Set(ctx, collections.Join(m.UnheldDeadline(), m.MeetingId))
}

// markHeld takes a meeting out of the unheld queue once an epoch admitted
// someone besides the leader: from then on it ends and is pruned like any
// other meeting.
func (k *Keeper) markHeld(ctx context.Context, m types.Meeting) error {
	if !m.Scheduled() {
		return nil
	}
	return k.UnheldQueue.Remove(ctx, collections.Join(m.UnheldDeadline(), m.MeetingId))
}

// queuePrune queues an ended meeting for pruning after the retention
// period, unless it is a scheduled meeting never held: the unheld queue
// prunes that one at its deadline.
func (k *Keeper) queuePrune(ctx context.Context, m types.Meeting, retentionBlocks uint64) error {
	if m.Scheduled() {
		unheld, err := k.UnheldQueue.Has(ctx, collections.Join(m.UnheldDeadline(), m.MeetingId))
		if err != nil || unheld {
			return err
		}
	}
	return k.PruneQueue.Set(ctx, collections.Join(m.EndedHeight+int64(retentionBlocks), m.MeetingId))
}

// pruneUnheldMeetings deletes scheduled meetings that were never held, once
// their deadline passed, a bounded number of records per block, and returns
// the budget left. A meeting still open at its deadline (the expiry phase
// is behind) waits: it is ended first, the usual way.
func (k *Keeper) pruneUnheldMeetings(ctx context.Context, budget int) (int, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	now := sdkCtx.BlockTime().Unix()
	for budget > 0 {
		var due *collections.Pair[int64, []byte]
		err := k.UnheldQueue.Walk(ctx, new(collections.Range[collections.Pair[int64, []byte]]).EndInclusive(collections.Join(now, maxMeetingID)),
			func(key collections.Pair[int64, []byte]) (bool, error) {
				due = &key
				return true, nil
			})
		if err != nil || due == nil {
			return budget, err
		}
		m, err := k.Meetings.Get(ctx, due.K2())
		switch {
		case errors.Is(err, collections.ErrNotFound):
			// Nothing left to prune (cannot happen while the queue and the
			// meeting are written together; kept so a stray entry never
			// blocks the queue).
			if err := k.UnheldQueue.Remove(ctx, *due); err != nil {
				return budget, err
			}
			budget--
			continue
		case err != nil:
			return budget, err
		case m.Status == types.Status_STATUS_OPEN:
			return budget, nil
		}
		var done bool
		if budget, done, err = k.pruneDue(sdkCtx, k.UnheldQueue, *due, budget, "never_held"); err != nil || !done {
			return budget, err
		}
	}
	return budget, nil
}
