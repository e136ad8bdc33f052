package ids

import "strings"

// DeviceRef names one device of one user, the pair every layer keys on
// (x/identity/types.DeviceRef is this type). Its text form is
// "user/device"; '/' is in neither ID alphabet, so a valid reference has
// exactly one text form and back.
type DeviceRef struct {
	User   string
	Device string
}

// String returns "user/device".
func (r DeviceRef) String() string { return r.User + "/" + r.Device }

// Valid reports whether both IDs match their syntax.
func (r DeviceRef) Valid() bool { return ValidUser(r.User) && ValidDevice(r.Device) }

// ParseDeviceRef parses "user/device"; ok is false for text without a '/'
// or with an ID that does not match its syntax (so also for a second
// '/'). x/identity/types.ParseDeviceRef says which part is wrong.
func ParseDeviceRef(s string) (r DeviceRef, ok bool) {
	user, device, found := strings.Cut(s, "/")
	r = DeviceRef{User: user, Device: device}
	if !found || !r.Valid() {
		return DeviceRef{}, false
	}
	return r, true
}
