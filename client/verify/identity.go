package verify

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// User reads a user record (ErrNotFound if the chain proves there is none).
func (s *Snapshot) User(ctx context.Context, userID string) (identitytypes.User, error) {
	return read[identitytypes.User](ctx, s, identitytypes.StoreKey, "user "+userID, identitytypes.UserStoreKey(userID), nil)
}

// Device reads a device record: its key, who added it, whether it is
// revoked (ErrNotFound if the chain proves there is no such device).
func (s *Snapshot) Device(ctx context.Context, userID, deviceID string) (identitytypes.Device, error) {
	key, err := identitytypes.DeviceStoreKey(userID, deviceID)
	return read[identitytypes.Device](ctx, s, identitytypes.StoreKey, "device "+identitytypes.DeviceRef{User: userID, Device: deviceID}.String(), key, err)
}

// HistoryEntry reads entry seq of a user's history.
func (s *Snapshot) HistoryEntry(ctx context.Context, userID string, seq uint64) (identitytypes.HistoryEntry, error) {
	key, err := identitytypes.HistoryStoreKey(userID, seq)
	return read[identitytypes.HistoryEntry](ctx, s, identitytypes.StoreKey, fmt.Sprintf("history entry %d of %s", seq, userID), key, err)
}

// History reads a user and every entry of its history, in order: the
// user record's seq bounds the list, so no entry can be hidden.
func (s *Snapshot) History(ctx context.Context, userID string) (identitytypes.User, []identitytypes.HistoryEntry, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return u, nil, err
	}
	out := make([]identitytypes.HistoryEntry, u.Seq)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range u.Seq {
		g.Go(func() error {
			e, err := s.HistoryEntry(gctx, userID, i)
			out[i] = e
			return err
		})
	}
	return u, out, g.Wait()
}

// Devices reads a user's history and every device it names, revoked ones
// included, in the order they were added: a proven list, since the user
// record's seq bounds the history and each device is read by key.
func (s *Snapshot) Devices(ctx context.Context, userID string) (identitytypes.User, []identitytypes.HistoryEntry, []identitytypes.Device, error) {
	u, hist, err := s.History(ctx, userID)
	if err != nil {
		return u, nil, nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, e := range hist {
		switch e.Op {
		case identitytypes.Op_OP_REGISTER, identitytypes.Op_OP_ADD, identitytypes.Op_OP_RESET:
			if !seen[e.DeviceId] {
				seen[e.DeviceId] = true
				ids = append(ids, e.DeviceId)
			}
		}
	}
	devs := make([]identitytypes.Device, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			d, err := s.Device(gctx, userID, id)
			devs[i] = d
			return err
		})
	}
	return u, hist, devs, g.Wait()
}
