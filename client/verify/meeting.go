package verify

import (
	"context"
	"fmt"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Meeting reads a meeting record: leader, leader device and ephemeral key,
// policy, epoch, roster hash, commitment, request_seq.
func (s *Snapshot) Meeting(ctx context.Context, id []byte) (meetingtypes.Meeting, error) {
	return read[meetingtypes.Meeting](ctx, s, meetingtypes.StoreKey, fmt.Sprintf("meeting %x", id), meetingtypes.MeetingStoreKey(id), nil)
}

// Request reads a device's join request in a meeting: its ephemeral key,
// status and log seq.
func (s *Snapshot) Request(ctx context.Context, id []byte, userID, deviceID string) (meetingtypes.JoinRequest, error) {
	key, err := meetingtypes.RequestStoreKey(id, userID, deviceID)
	return read[meetingtypes.JoinRequest](ctx, s, meetingtypes.StoreKey, fmt.Sprintf("join request of %s/%s in meeting %x", userID, deviceID, id), key, err)
}

// Epoch reads epoch n of a meeting: roster, roster hash, commitment,
// leader at commit time.
func (s *Snapshot) Epoch(ctx context.Context, id []byte, n uint64) (meetingtypes.Epoch, error) {
	key, err := meetingtypes.EpochStoreKey(id, n)
	return read[meetingtypes.Epoch](ctx, s, meetingtypes.StoreKey, fmt.Sprintf("epoch %d of meeting %x", n, id), key, err)
}

// RequestLogEntry reads entry seq of a meeting's request log.
func (s *Snapshot) RequestLogEntry(ctx context.Context, id []byte, seq uint64) (meetingtypes.RequestLogEntry, error) {
	key, err := meetingtypes.RequestLogStoreKey(id, seq)
	return read[meetingtypes.RequestLogEntry](ctx, s, meetingtypes.StoreKey, fmt.Sprintf("request log entry %d of meeting %x", seq, id), key, err)
}

// MeetingParams reads x/meeting's parameters.
func (s *Snapshot) MeetingParams(ctx context.Context) (meetingtypes.Params, error) {
	return read[meetingtypes.Params](ctx, s, meetingtypes.StoreKey, "meeting parameters", meetingtypes.ParamsStoreKey(), nil)
}
