package keeper

import (
	"context"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// Hooks lets x/identity tell x/meeting about revoked devices.
type Hooks struct{ k *Keeper }

var _ identitytypes.IdentityHooks = Hooks{}

// Hooks returns the identity hooks of this keeper.
func (k *Keeper) Hooks() Hooks { return Hooks{k: k} }

// AfterDeviceRevoked makes every open meeting whose roster holds the
// device rekey-due, so the leader commits an epoch without it (or is
// replaced after the timeout).
func (h Hooks) AfterDeviceRevoked(ctx context.Context, userID, deviceID string) error {
	k := h.k
	var meetings [][]byte
	err := k.DeviceIndex.Walk(ctx, collections.NewSuperPrefixedTripleRange[string, string, []byte](userID, deviceID),
		func(key collections.Triple[string, string, []byte]) (bool, error) {
			meetings = append(meetings, key.K3())
			return false, nil
		})
	if err != nil {
		return err
	}
	for _, id := range meetings {
		m, err := k.Meetings.Get(ctx, id)
		if err != nil || m.Status != types.Status_STATUS_OPEN {
			continue
		}
		r, err := k.Requests.Get(ctx, types.JoinRequestKey(id, identitytypes.DeviceRef{User: userID, Device: deviceID}))
		if err != nil {
			continue
		}
		switch r.Status {
		case types.RequestStatus_REQUEST_STATUS_ADMITTED:
			if err := k.markRekeyDue(ctx, &m, "revoke", userID, deviceID); err != nil {
				return err
			}
		case types.RequestStatus_REQUEST_STATUS_PENDING:
			if err := k.setRequestStatus(ctx, &r, types.RequestStatus_REQUEST_STATUS_EXPIRED); err != nil {
				return err
			}
		}
	}
	return nil
}
