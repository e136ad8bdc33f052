package keeper

import (
	"context"
	"errors"
	"github.com/parleynet/parley/internal/markset"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// RequestKey is (meeting_id, "user_id/device_id"), the device as its
// DeviceRef's text; types.JoinRequestKey builds it.
type RequestKey = collections.Pair[[]byte, string]

// Keeper holds the meeting registry's state.
type Keeper struct {
	cdc       codec.BinaryCodec
	authority string
	identity  types.IdentityKeeper

	Schema   collections.Schema
	Params   collections.Item[types.Params]
	Meetings collections.Map[[]byte, types.Meeting]
	Requests collections.Map[RequestKey, types.JoinRequest]
	Epochs   collections.Map[collections.Pair[[]byte, uint64], types.Epoch]
	// RequestLog: (meeting, seq) for every request written by a creation,
	// a join request or a key rotation, seq 1..meeting.request_seq.
	RequestLog collections.Map[collections.Pair[[]byte, uint64], types.RequestLogEntry]
	// PendingCount is the number of pending requests per meeting.
	PendingCount collections.Map[[]byte, uint64]
	// LeaderIndex: (leader user, meeting) for open meetings.
	LeaderIndex markset.Set[collections.Pair[string, []byte]]
	// MemberIndex: (user, meeting) for users in an open meeting's roster.
	MemberIndex markset.Set[collections.Pair[string, []byte]]
	// DeviceIndex: (user, device, meeting) for every request, so a
	// revocation finds the device's meetings without a scan.
	DeviceIndex markset.Set[collections.Triple[string, string, []byte]]
	// ExpiryQueue: (expires_at, meeting) for open meetings.
	ExpiryQueue markset.Set[collections.Pair[int64, []byte]]
	// PendingQueue: (height, meeting, "user/device") for pending requests.
	PendingQueue markset.Set[collections.Triple[int64, []byte, string]]
	// PruneQueue: (prune height, meeting) for ended meetings.
	PruneQueue markset.Set[collections.Pair[int64, []byte]]
	// UsedEphKeys: (meeting, SHA-256 of an ephemeral key) for every key a
	// meeting has seen, so no signed request, claim or leave can be
	// replayed with an old key.
	UsedEphKeys markset.Set[collections.Pair[[]byte, []byte]]
	// UnheldQueue: (unheld deadline, meeting) for scheduled meetings that
	// have not yet admitted anyone but the leader (schedule.go).
	UnheldQueue markset.Set[collections.Pair[int64, []byte]]
}

// NewKeeper builds the keeper and its collections schema.
func NewKeeper(cdc codec.BinaryCodec, storeService storetypes.KVStoreService, identity types.IdentityKeeper, authority string) *Keeper {
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:       cdc,
		authority: authority,
		identity:  identity,
		Params:    collections.NewItem(sb, types.ParamsPrefix, "params", codec.CollValue[types.Params](cdc)),
		Meetings:  collections.NewMap(sb, types.MeetingsPrefix, "meetings", types.MeetingKeyCodec, codec.CollValue[types.Meeting](cdc)),
		Requests:  collections.NewMap(sb, types.RequestsPrefix, "requests", types.RequestKeyCodec, codec.CollValue[types.JoinRequest](cdc)),
		Epochs:    collections.NewMap(sb, types.EpochsPrefix, "epochs", types.EpochKeyCodec, codec.CollValue[types.Epoch](cdc)),
		RequestLog: collections.NewMap(sb, types.RequestLogPrefix, "request_log", types.RequestLogKeyCodec,
			codec.CollValue[types.RequestLogEntry](cdc)),
		PendingCount: collections.NewMap(sb, types.PendingCountPrefix, "pending_count", collections.BytesKey, collections.Uint64Value),
		LeaderIndex: markset.New(sb, types.LeaderIndexPrefix, "by_leader",
			collections.PairKeyCodec(collections.StringKey, collections.BytesKey)),
		MemberIndex: markset.New(sb, types.MemberIndexPrefix, "by_member",
			collections.PairKeyCodec(collections.StringKey, collections.BytesKey)),
		DeviceIndex: markset.New(sb, types.DeviceIndexPrefix, "by_device",
			collections.TripleKeyCodec(collections.StringKey, collections.StringKey, collections.BytesKey)),
		ExpiryQueue: markset.New(sb, types.ExpiryQueuePrefix, "expiry_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.BytesKey)),
		PendingQueue: markset.New(sb, types.PendingQueuePrefix, "pending_queue",
			collections.TripleKeyCodec(collections.Int64Key, collections.BytesKey, collections.StringKey)),
		PruneQueue: markset.New(sb, types.PruneQueuePrefix, "prune_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.BytesKey)),
		UsedEphKeys: markset.New(sb, types.UsedEphKeysPrefix, "used_eph_keys",
			collections.PairKeyCodec(collections.BytesKey, collections.BytesKey)),
		UnheldQueue: markset.New(sb, types.UnheldQueuePrefix, "unheld_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.BytesKey)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the account allowed to change params.
func (k *Keeper) Authority() string { return k.authority }

// openMeeting loads a meeting that accepts changes: it exists, is open and
// has not expired (the EndBlocker ends it at the next block).
func (k *Keeper) openMeeting(ctx context.Context, id []byte) (types.Meeting, error) {
	if len(id) != types.MeetingIDSize {
		return types.Meeting{}, types.ErrInvalidMeetingID.Wrapf("meeting_id: want %d bytes, got %d", types.MeetingIDSize, len(id))
	}
	m, err := k.Meetings.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return m, types.ErrMeetingNotFound.Wrapf("meeting_id %x", id)
	} else if err != nil {
		return m, err
	}
	if m.Status != types.Status_STATUS_OPEN {
		return m, types.ErrMeetingEnded.Wrapf("meeting %x ended at height %d", id, m.EndedHeight)
	}
	if now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix(); now >= m.ExpiresAt {
		return m, types.ErrMeetingExpired.Wrapf("meeting %x expired at %d (now %d)", id, m.ExpiresAt, now)
	}
	return m, nil
}

// verifyDevice checks a device signature against the device's active key.
func (k *Keeper) verifyDevice(ctx context.Context, userID, deviceID string, signBytes, sig []byte) error {
	d, err := k.identity.ActiveDevice(ctx, userID, deviceID)
	if err != nil {
		return err
	}
	return verifySig(d.Pubkey, signBytes, sig)
}

// useEphKey records an ephemeral key as used in the meeting, refusing one
// used before.
func (k *Keeper) useEphKey(ctx context.Context, meetingID, ephPK []byte) error {
	key := collections.Join(meetingID, types.EphKeyHash(ephPK))
	if used, err := k.UsedEphKeys.Has(ctx, key); err != nil {
		return err
	} else if used {
		return types.ErrEphKeyReused.Wrapf("eph_pk was already used in meeting %x; make a new one", meetingID)
	}
	return k.UsedEphKeys.Set(ctx, key)
}

// appendLog appends an entry for user/device to the meeting's request log
// and returns its seq. The caller stores m (its request_seq moved on) and
// the request, with Seq set to the returned seq.
func (k *Keeper) appendLog(ctx context.Context, m *types.Meeting, userID, deviceID string, kind types.LogKind) (uint64, error) {
	m.RequestSeq++
	e := types.RequestLogEntry{UserId: userID, DeviceId: deviceID, Height: sdk.UnwrapSDKContext(ctx).BlockHeight(), Kind: kind}
	return m.RequestSeq, k.RequestLog.Set(ctx, collections.Join(m.MeetingId, m.RequestSeq), e)
}

// setRequestStatus moves a request to a new status, keeping the pending
// counter and queue in step.
func (k *Keeper) setRequestStatus(ctx context.Context, r *types.JoinRequest, status types.RequestStatus) error {
	wasPending := r.Status == types.RequestStatus_REQUEST_STATUS_PENDING
	isPending := status == types.RequestStatus_REQUEST_STATUS_PENDING
	if wasPending && !isPending {
		if err := k.PendingQueue.Remove(ctx, collections.Join3(r.Height, r.MeetingId, r.Ref().String())); err != nil {
			return err
		}
		if err := k.addPending(ctx, r.MeetingId, -1); err != nil {
			return err
		}
	}
	if isPending && !wasPending {
		if err := k.PendingQueue.Set(ctx, collections.Join3(r.Height, r.MeetingId, r.Ref().String())); err != nil {
			return err
		}
		if err := k.addPending(ctx, r.MeetingId, 1); err != nil {
			return err
		}
	}
	r.Status = status
	if err := k.Requests.Set(ctx, types.JoinRequestKey(r.MeetingId, r.Ref()), *r); err != nil {
		return err
	}
	if wasPending && status == types.RequestStatus_REQUEST_STATUS_EXPIRED {
		return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRequestExpired{
			MeetingId: r.MeetingId, UserId: r.UserId, DeviceId: r.DeviceId,
		})
	}
	return nil
}

func (k *Keeper) addPending(ctx context.Context, id []byte, delta int64) error {
	n, err := k.PendingCount.Get(ctx, id)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	next := int64(n) + delta
	if next <= 0 {
		return k.PendingCount.Remove(ctx, id)
	}
	return k.PendingCount.Set(ctx, id, uint64(next))
}

// markRekeyDue records that the meeting needs a new epoch (once).
func (k *Keeper) markRekeyDue(ctx context.Context, m *types.Meeting, cause, userID, deviceID string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if m.RekeyDueHeight == 0 {
		m.RekeyDueHeight = sdkCtx.BlockHeight()
		if m.RekeyDueHeight == 0 {
			m.RekeyDueHeight = 1
		}
	}
	if err := k.Meetings.Set(ctx, m.MeetingId, *m); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventRekeyDue{
		MeetingId: m.MeetingId, Epoch: m.Epoch, Cause: cause, UserId: userID, DeviceId: deviceID,
	})
}

// currentEpoch returns the meeting's current epoch record (false before the first).
func (k *Keeper) currentEpoch(ctx context.Context, m types.Meeting) (types.Epoch, bool, error) {
	if m.Epoch == 0 {
		return types.Epoch{}, false, nil
	}
	e, err := k.Epochs.Get(ctx, collections.Join(m.MeetingId, m.Epoch))
	return e, err == nil, err
}
