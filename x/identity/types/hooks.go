package types

import "context"

// IdentityHooks lets other modules react to identity changes. x/meeting
// uses it to make meetings with a revoked device in their roster rekey-due.
type IdentityHooks interface {
	AfterDeviceRevoked(ctx context.Context, userID, deviceID string) error
}

// MultiIdentityHooks calls several hooks in order.
type MultiIdentityHooks []IdentityHooks

// AfterDeviceRevoked implements IdentityHooks.
func (m MultiIdentityHooks) AfterDeviceRevoked(ctx context.Context, userID, deviceID string) error {
	for _, h := range m {
		if err := h.AfterDeviceRevoked(ctx, userID, deviceID); err != nil {
			return err
		}
	}
	return nil
}
