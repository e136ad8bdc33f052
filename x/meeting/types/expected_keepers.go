package types

import (
	"context"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// IdentityKeeper is what x/meeting needs of x/identity.
type IdentityKeeper interface {
	ActiveDevice(ctx context.Context, userID, deviceID string) (identitytypes.Device, error)
}
