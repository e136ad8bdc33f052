package keystore

import "errors"

// Sentinel errors. Every error the package returns wraps one of these (test
// with errors.Is) and adds what a user needs to act on it: the file, the user
// and device, the field.
var (
	// ErrInvalidID reports a user_id or device_id that does not match its
	// pattern; the message names the field.
	ErrInvalidID = errors.New("keystore: invalid id")

	// ErrEmptyPassphrase reports an empty passphrase where one is required:
	// creating a key without CreateOptions.Unencrypted, or loading an
	// encrypted key.
	ErrEmptyPassphrase = errors.New("keystore: empty passphrase")

	// ErrInvalidOption reports contradictory create options, such as a
	// passphrase together with Unencrypted.
	ErrInvalidOption = errors.New("keystore: invalid option")

	// ErrExists reports that a key file for the user and device already
	// exists; the store never overwrites a key.
	ErrExists = errors.New("keystore: key already exists")

	// ErrNotFound reports that no key file exists for the user and device.
	ErrNotFound = errors.New("keystore: key not found")

	// ErrClosed reports a signature asked of a DeviceKey after Close.
	ErrClosed = errors.New("keystore: device key closed")

	// ErrWrongPassphrase reports that the passphrase does not open the key.
	ErrWrongPassphrase = errors.New("keystore: wrong passphrase")

	// ErrCorrupt reports a key file that cannot be parsed, fails its
	// integrity checks or does not belong to the user and device it is
	// named for; the message names the file.
	ErrCorrupt = errors.New("keystore: corrupt key file")

	// ErrUnsupportedVersion reports a key file written by a newer (or
	// unknown) version of the format.
	ErrUnsupportedVersion = errors.New("keystore: unsupported key file version")

	// ErrInsecurePermissions reports a key file or key directory that other
	// users may read or write; the message gives the chmod that fixes it.
	ErrInsecurePermissions = errors.New("keystore: insecure permissions")
)
