package mailbox

import (
	"net"
	"slices"
	"sync"
	"time"
)

// watchInterfaces drops the client's connections whenever this device's
// addresses change: a TCP connection from an address the device no longer
// has hangs until TCP gives up, minutes later, and with it every
// subscription and post. It returns the function that stops it.
func (c *Client) watchInterfaces(every time.Duration) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		last := localAddrs()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if now := localAddrs(); !slices.Equal(now, last) {
				last = now
				_ = c.dropConns()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
		})
	}
}

// localAddrs returns the device's interface addresses, sorted.
func localAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out
}
