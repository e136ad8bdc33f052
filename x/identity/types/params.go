package types

import "cosmossdk.io/errors"

// DefaultMaxDevicesPerUser is enough for a phone, a laptop, a desktop and a
// few spares, and small enough that a revocation scan stays cheap.
const DefaultMaxDevicesPerUser = 10

// maxDevicesCeiling bounds the parameter itself.
const maxDevicesCeiling = 1000

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{MaxDevicesPerUser: DefaultMaxDevicesPerUser}
}

// Validate checks the parameters.
func (p Params) Validate() error {
	if p.MaxDevicesPerUser == 0 || p.MaxDevicesPerUser > maxDevicesCeiling {
		return errors.Wrapf(ErrInvalidParams, "max_devices_per_user: want 1..%d, got %d", maxDevicesCeiling, p.MaxDevicesPerUser)
	}
	return nil
}
