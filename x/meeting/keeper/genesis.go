package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// InitGenesis loads a validated genesis state and rebuilds the indexes and
// queues from it.
func (k *Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
	// A scheduled meeting was held once an epoch admitted anyone but its
	// leader; until then it is in the unheld queue, not the prune queue.
	held := map[string]bool{}
	for _, e := range gs.Epochs {
		if len(e.Members) > 1 {
			held[string(e.MeetingId)] = true
		}
	}
	started := map[string]bool{}
	for _, m := range gs.Meetings {
		started[string(m.MeetingId)] = m.Started(now)
		if m.Scheduled() && !held[string(m.MeetingId)] {
			if err := k.queueUnheld(ctx, m); err != nil {
				return err
			}
		}
	}
	for _, m := range gs.Meetings {
		if err := k.Meetings.Set(ctx, m.MeetingId, m); err != nil {
			return err
		}
		if err := k.UsedEphKeys.Set(ctx, collections.Join(m.MeetingId, types.EphKeyHash(m.LeaderEphPk))); err != nil {
			return err
		}
		if m.Status == types.Status_STATUS_OPEN {
			if err := k.LeaderIndex.Set(ctx, collections.Join(m.LeaderUser, m.MeetingId)); err != nil {
				return err
			}
			if err := k.ExpiryQueue.Set(ctx, collections.Join(m.ExpiresAt, m.MeetingId)); err != nil {
				return err
			}
		} else if err := k.queuePrune(ctx, m, gs.Params.RetentionBlocks); err != nil {
			return err
		}
	}
	for _, r := range gs.Requests {
		status := r.Status
		r.Status = types.RequestStatus_REQUEST_STATUS_UNSPECIFIED
		if status == types.RequestStatus_REQUEST_STATUS_PENDING && !started[string(r.MeetingId)] {
			// Still in the lobby: no TTL before the start (schedule.go).
			m, err := k.Meetings.Get(ctx, r.MeetingId)
			if err != nil {
				return err
			}
			if err := k.addRequest(ctx, m, &r); err != nil {
				return err
			}
		} else if err := k.setRequestStatus(ctx, &r, status); err != nil {
			return err
		}
		if err := k.DeviceIndex.Set(ctx, collections.Join3(r.UserId, r.DeviceId, r.MeetingId)); err != nil {
			return err
		}
		// Only the keys of current requests survive an export; older ones
		// are not in the genesis format (see README, Genesis).
		if err := k.UsedEphKeys.Set(ctx, collections.Join(r.MeetingId, types.EphKeyHash(r.EphPk))); err != nil {
			return err
		}
	}
	for _, l := range gs.RequestLog {
		if err := k.RequestLog.Set(ctx, collections.Join(l.MeetingId, l.Seq), l.Entry); err != nil {
			return err
		}
	}
	for _, e := range gs.Epochs {
		if err := k.Epochs.Set(ctx, collections.Join(e.MeetingId, e.Epoch), e); err != nil {
			return err
		}
		m, err := k.Meetings.Get(ctx, e.MeetingId)
		if err != nil {
			return err
		}
		if m.Status == types.Status_STATUS_OPEN && m.Epoch == e.Epoch {
			for _, mem := range e.Members {
				if err := k.MemberIndex.Set(ctx, collections.Join(mem.UserId, e.MeetingId)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ExportGenesis dumps meetings, requests, epochs and request logs in key order. Ended
// meetings already due for pruning are left out: the EndBlocker may be
// halfway through deleting them, and they would be deleted anyway.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
	pruning := map[string]bool{}
	if err := k.PruneQueue.Walk(ctx, new(collections.Range[collections.Pair[int64, []byte]]).EndInclusive(collections.Join(height, maxMeetingID)),
		func(key collections.Pair[int64, []byte]) (bool, error) {
			// Pruning never starts while the creation signature is valid;
			// such a meeting is whole and must stay, or its ID could be
			// taken by a replayed creation after an import.
			m, err := k.Meetings.Get(ctx, key.K2())
			if err == nil && now >= m.CreateValidUntil {
				pruning[string(key.K2())] = true
			}
			return false, nil
		}); err != nil {
		return nil, err
	}
	// Ended scheduled meetings never held and past their deadline are being
	// pruned by the unheld queue the same way.
	if err := k.UnheldQueue.Walk(ctx, new(collections.Range[collections.Pair[int64, []byte]]).EndInclusive(collections.Join(now, maxMeetingID)),
		func(key collections.Pair[int64, []byte]) (bool, error) {
			m, err := k.Meetings.Get(ctx, key.K2())
			if err == nil && m.Status == types.Status_STATUS_ENDED {
				pruning[string(key.K2())] = true
			}
			return false, nil
		}); err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if err := k.Meetings.Walk(ctx, nil, func(_ []byte, m types.Meeting) (bool, error) {
		if !pruning[string(m.MeetingId)] {
			gs.Meetings = append(gs.Meetings, m)
		}
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Requests.Walk(ctx, nil, func(_ RequestKey, r types.JoinRequest) (bool, error) {
		if !pruning[string(r.MeetingId)] {
			gs.Requests = append(gs.Requests, r)
		}
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Epochs.Walk(ctx, nil, func(_ collections.Pair[[]byte, uint64], e types.Epoch) (bool, error) {
		if !pruning[string(e.MeetingId)] {
			gs.Epochs = append(gs.Epochs, e)
		}
		return false, nil
	}); err != nil {
		return nil, err
	}
	err = k.RequestLog.Walk(ctx, nil, func(key collections.Pair[[]byte, uint64], e types.RequestLogEntry) (bool, error) {
		if !pruning[string(key.K1())] {
			gs.RequestLog = append(gs.RequestLog, types.RequestLogRecord{MeetingId: key.K1(), Seq: key.K2(), Entry: e})
		}
		return false, nil
	})
	return gs, err
}
