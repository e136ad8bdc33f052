package localnet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// The script's port layout: node i listens on base + i*PortStride plus
// these offsets.
const (
	PortStride    = 100
	offsetAPI     = 17
	offsetP2P     = 56
	offsetRPC     = 57
	offsetMailbox = 80
	offsetGRPC    = 90
)

var offsets = []int{offsetAPI, offsetP2P, offsetRPC, offsetMailbox, offsetGRPC}

// Candidate bases lie below Linux's ephemeral range (32768 and up), where
// outgoing connections would take ports from under a node, below 30000,
// where the e2e tests' single-validator localnets listen, and skip
// 26000-27999, where the default localnet (26600) and localnet-4 (27000)
// listen.
const (
	portLow  = 12000
	portHigh = 29900
)

var nextBase atomic.Int64

// FreePortBase returns a port base under which every port of a network of
// the given number of validators is free on 127.0.0.1 now, and reserves
// its blocks of PortStride ports against every other process that uses
// this package (a lock file per block, held until ReleasePortBase or the
// process ends): a stopped node's ports look free, and a network started
// in parallel must not take them. A process that does not use this
// package can still take a port before the nodes bind it; Start then
// retries.
func FreePortBase(validators int) (int, error) {
	if validators < 1 {
		return 0, errors.New("localnet: want at least one validator")
	}
	span := validators * PortStride
	slots := (portHigh - portLow) / span
	if slots < 1 {
		return 0, fmt.Errorf("localnet: %d validators do not fit in the port range", validators)
	}
	// Spread processes (pid) and networks within a process (counter) over
	// the range so that parallel test processes seldom probe the same ports.
	start := os.Getpid() + int(nextBase.Add(1))*7
	for k := 0; k < slots; k++ {
		base := portLow + ((start+k)%slots)*span
		if base+span > 26000 && base < 28000 {
			continue
		}
		release, ok := reserve(base, validators)
		if !ok {
			continue
		}
		if portsFree(base, validators) {
			reservations.Store(base, release)
			return base, nil
		}
		release()
	}
	return 0, errors.New("localnet: no free port base on 127.0.0.1")
}

func portsFree(base, validators int) bool {
	for i := 0; i < validators; i++ {
		for _, off := range offsets {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i*PortStride+off))
			if err != nil {
				return false
			}
			_ = l.Close()
		}
	}
	return true
}

// reservations holds the release functions of this process's reserved
// bases.
var reservations sync.Map

// ReleasePortBase gives back a base FreePortBase reserved.
func ReleasePortBase(base int) {
	if r, ok := reservations.LoadAndDelete(base); ok {
		r.(func())()
	}
}

// reserve locks the blocks of ports of a network at base, or none.
func reserve(base, validators int) (release func(), ok bool) {
	dir := filepath.Join(os.TempDir(), "parley-localnet-ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}, true // no reservations possible: probing alone
	}
	var held []func()
	release = func() {
		for _, u := range held {
			u()
		}
	}
	for i := 0; i < validators; i++ {
		u, ok, err := tryLockFile(filepath.Join(dir, strconv.Itoa(base+i*PortStride)+".lock"))
		if err != nil || !ok {
			release()
			return nil, false
		}
		held = append(held, u)
	}
	return release, true
}
