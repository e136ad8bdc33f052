package types

import (
	"strings"

	"cosmossdk.io/errors"
)

// DeviceRef names one device of one user: the pair the modules' state, the
// sessions, the call engine and the page all key on. Its text form is
// "user/device"; '/' is in neither ID alphabet (internal/ids), so a valid
// reference has exactly one text form and back.
type DeviceRef struct {
	User   string
	Device string
}

// String returns "user/device".
func (r DeviceRef) String() string { return r.User + "/" + r.Device }

// Validate checks both IDs against their syntax.
func (r DeviceRef) Validate() error {
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
	if err := r.Validate(); err != nil {
		return DeviceRef{}, err
	}
	return r, nil
}

// Ref returns the device's reference.
func (m *Device) Ref() DeviceRef { return DeviceRef{User: m.UserId, Device: m.DeviceId} }
