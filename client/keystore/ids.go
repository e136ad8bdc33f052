package keystore

import (
	"fmt"
	"strings"

	"github.com/parleynet/parley/internal/ids"
)

const (
	// fileSuffix ends every key file name.
	fileSuffix = ".key.json"
	// idSeparator joins user and device in a file name. Neither ID may
	// contain it, so a name splits back into exactly one (user, device);
	// "__" would not do, since both IDs may contain '_' ("ab_"+"__"+"x" and
	// "ab"+"__"+"_x" are the same name).
	idSeparator = "@"
	// tempPrefix starts the name of a file being written; List ignores it.
	tempPrefix = ".tmp-"
)

// ValidateUserID reports whether id is a valid user_id
// (^[a-z0-9][a-z0-9._-]{2,31}$).
func ValidateUserID(id string) error {
	if !ids.ValidUser(id) {
		return fmt.Errorf("%w: user_id %s must match %s", ErrInvalidID, quoteID(id), ids.UserPattern)
	}
	return nil
}

// ValidateDeviceID reports whether id is a valid device_id
// (^[a-z0-9._-]{1,32}$).
func ValidateDeviceID(id string) error {
	if !ids.ValidDevice(id) {
		return fmt.Errorf("%w: device_id %s must match %s", ErrInvalidID, quoteID(id), ids.DevicePattern)
	}
	return nil
}

func validateIDs(userID, deviceID string) error {
	if err := ValidateUserID(userID); err != nil {
		return err
	}
	return ValidateDeviceID(deviceID)
}

// quoteID quotes an ID for an error message, cut short so that a huge
// argument cannot flood a log.
func quoteID(id string) string {
	const maxShown = 64
	if len(id) > maxShown {
		return fmt.Sprintf("%q… (%d bytes)", id[:maxShown], len(id))
	}
	return fmt.Sprintf("%q", id)
}

// fileName is the name of the key file of (userID, deviceID); both must be
// valid.
func fileName(userID, deviceID string) string {
	return userID + idSeparator + deviceID + fileSuffix
}

// parseFileName splits a key file name back into user and device. ok is
// false for names that are not key files at all; err is set for names that
// look like key files but carry invalid IDs.
func parseFileName(name string) (userID, deviceID string, ok bool, err error) {
	base, found := strings.CutSuffix(name, fileSuffix)
	if !found || strings.HasPrefix(name, tempPrefix) {
		return "", "", false, nil
	}
	userID, deviceID, found = strings.Cut(base, idSeparator)
	if !found {
		return "", "", true, fmt.Errorf("%w: file name %s is not <user_id>%s<device_id>%s", ErrInvalidID, quoteID(name), idSeparator, fileSuffix)
	}
	if err := validateIDs(userID, deviceID); err != nil {
		return "", "", true, fmt.Errorf("file name %s: %w", quoteID(name), err)
	}
	return userID, deviceID, true, nil
}
