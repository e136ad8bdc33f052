package types

import (
	"strings"

	"cosmossdk.io/errors"

	"github.com/parleynet/parley/internal/ids"
)

// DeviceRef names one device of one user: the pair the modules' state, the
// sessions, the call engine and the page all key on. Its text form is
// "user/device" (String). It is internal/ids' type, so the layers that do
// not import a chain module (the mailbox API and node, the call engine)
// share it.
type DeviceRef = ids.DeviceRef

// ValidateDeviceRef checks both IDs of r against their syntax.
func ValidateDeviceRef(r DeviceRef) error {
	if err := ValidateUserID("user_id", r.User); err != nil {
		return err
	}
	return ValidateDeviceID("device_id", r.Device)
}

// ParseDeviceRef parses "user/device". It refuses text without a '/' and
// IDs that do not match their syntax (ErrInvalidUserID,
// ErrInvalidDeviceID), so a second '/' is refused as part of the device ID.
func ParseDeviceRef(s string) (DeviceRef, error) {
	user, device, ok := strings.Cut(s, "/")
	if !ok {
		return DeviceRef{}, errors.Wrapf(ErrInvalidDeviceID, "device reference %q: want user_id/device_id", s)
	}
	r := DeviceRef{User: user, Device: device}
	if err := ValidateDeviceRef(r); err != nil {
		return DeviceRef{}, err
	}
	return r, nil
}

// Ref returns the device's reference.
func (m *Device) Ref() DeviceRef { return DeviceRef{User: m.UserId, Device: m.DeviceId} }
