//go:build !unix

package localnet

// lockFile is a no-op where flock is missing; the network script needs a
// Unix shell anyway.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }

func tryLockFile(string) (unlock func(), ok bool, err error) { return func() {}, true, nil }
