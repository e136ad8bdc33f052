// Package ids is the syntax of Parley's user and device IDs, which the
// chain (x/identity), the mailbox API and the client's keystore all check,
// and DeviceRef, the (user, device) pair they all name devices by. It
// holds the one definition so that they cannot drift apart. It must
// never import anything of Parley's: every layer imports it.
package ids

import "regexp"

const (
	// UserPattern is the syntax of a user ID.
	UserPattern = `^[a-z0-9][a-z0-9._-]{2,31}$`
	// DevicePattern is the syntax of a device ID.
	DevicePattern = `^[a-z0-9._-]{1,32}$`

	// UserRule and DeviceRule say the patterns in words, for errors.
	UserRule   = "3-32 characters of [a-z0-9._-] starting with [a-z0-9]"
	DeviceRule = "1-32 characters of [a-z0-9._-]"
)

var (
	userRE   = regexp.MustCompile(UserPattern)
	deviceRE = regexp.MustCompile(DevicePattern)
)

// ValidUser reports whether id is a valid user ID.
func ValidUser(id string) bool { return userRE.MatchString(id) }

// ValidDevice reports whether id is a valid device ID.
func ValidDevice(id string) bool { return deviceRE.MatchString(id) }
