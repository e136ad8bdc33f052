package types

import "cosmossdk.io/errors"

// Registered errors of x/identity. Codes start at 2; 0 and 1 are reserved.
var (
	ErrInvalidUserID    = errors.Register(ModuleName, 2, "invalid user_id")
	ErrInvalidDeviceID  = errors.Register(ModuleName, 3, "invalid device_id")
	ErrInvalidPubKey    = errors.Register(ModuleName, 4, "invalid device public key")
	ErrInvalidSignature = errors.Register(ModuleName, 5, "invalid device signature")
	ErrUserExists       = errors.Register(ModuleName, 6, "user already registered")
	ErrUserNotFound     = errors.Register(ModuleName, 7, "user not found")
	ErrDeviceExists     = errors.Register(ModuleName, 8, "device already exists")
	ErrDeviceNotFound   = errors.Register(ModuleName, 9, "device not found")
	ErrDeviceRevoked    = errors.Register(ModuleName, 10, "device is revoked")
	ErrNotOwner         = errors.Register(ModuleName, 11, "account does not own the user")
	ErrTooManyDevices   = errors.Register(ModuleName, 12, "too many active devices")
	ErrLastDevice       = errors.Register(ModuleName, 13, "cannot revoke the last active device")
	ErrPubKeyInUse      = errors.Register(ModuleName, 14, "public key already registered")
	ErrInvalidParams    = errors.Register(ModuleName, 15, "invalid params")
	ErrInvalidAddress   = errors.Register(ModuleName, 16, "invalid address")
	ErrUnauthorized     = errors.Register(ModuleName, 17, "unauthorized")
	ErrInvalidGenesis   = errors.Register(ModuleName, 18, "invalid genesis state")
)
