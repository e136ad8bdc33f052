package localnet

import (
	"errors"
	"fmt"
	"net"
	"os"
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
// outgoing connections would take ports from under a node, and skip
// 26000-27999, where the default localnet (26600) and localnet-4 (27000)
// listen.
const (
	portLow  = 12000
	portHigh = 32000
)

var nextBase atomic.Int64

// FreePortBase returns a port base under which every port of a network of
// the given number of validators is free on 127.0.0.1 now. Another process
// can still take one before the nodes bind it; Start then retries.
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
		if portsFree(base, validators) {
			return base, nil
		}
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
