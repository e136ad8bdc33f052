package turn

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/turn/v5"
	"golang.org/x/time/rate"
)

// quotas counts allocations per device (the opaque ID pion hands the
// relay address generator as UserID) and in total, and holds each
// device's bandwidth budget while it has allocations. A device that holds
// none is forgotten.
type quotas struct {
	cfg Config

	mu      sync.Mutex
	total   int
	devices map[string]*device

	relayed atomic.Uint64 // bytes relayed, both directions
	dropped atomic.Uint64 // packets dropped over a budget
}

type device struct {
	allocs int
	budget *rate.Limiter // shared by the device's allocations
}

func newQuotas(cfg Config) *quotas {
	return &quotas{cfg: cfg, devices: make(map[string]*device)}
}

// budget returns a token bucket of bits per second, holding half a
// second's worth: enough for a key frame's burst, not for a flood.
func budget(bitsPerSecond int) *rate.Limiter {
	bytes := bitsPerSecond / 8
	return rate.NewLimiter(rate.Limit(bytes), max(bytes/2, 64*1024))
}

// room says whether id may open one more allocation: pion's QuotaHandler,
// which answers 486 (Allocation Quota Reached). take makes it so.
func (q *quotas) room(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.devices[id]
	return q.total < q.cfg.MaxAllocations && (d == nil || d.allocs < q.cfg.MaxDeviceAllocations)
}

// take counts one more allocation of id, or refuses it.
func (q *quotas) take(id string) (*device, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= q.cfg.MaxAllocations {
		return nil, fmt.Errorf("%w: the node holds %d allocations", ErrQuota, q.total)
	}
	d := q.devices[id]
	if d == nil {
		d = &device{budget: budget(q.cfg.DeviceBandwidth)}
		q.devices[id] = d
	}
	if d.allocs >= q.cfg.MaxDeviceAllocations {
		return nil, fmt.Errorf("%w: device %s holds %d allocations", ErrQuota, id, d.allocs)
	}
	d.allocs++
	q.total++
	return d, nil
}

func (q *quotas) release(id string, d *device) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d.allocs--
	q.total--
	if d.allocs == 0 && q.devices[id] == d {
		delete(q.devices, id)
	}
}

// counts returns the node's allocations and the number of devices
// holding some.
func (q *quotas) counts() (allocs, devices int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total, len(q.devices)
}

// relayGenerator is pion's port-range relay address generator with the
// quotas in front of it: every relay socket it makes is counted against
// its device until it is closed, and carries the budgets.
type relayGenerator struct {
	turn.RelayAddressGenerator
	q *quotas
}

func (g *relayGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	d, err := g.q.take(conf.UserID)
	if err != nil {
		return nil, nil, err
	}
	pc, addr, err := g.RelayAddressGenerator.AllocatePacketConn(conf)
	if err != nil {
		g.q.release(conf.UserID, d)
		return nil, nil, err
	}
	return &relayConn{PacketConn: pc, q: g.q, id: conf.UserID, dev: d, own: budget(g.q.cfg.AllocationBandwidth)}, addr, nil
}

func (g *relayGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelay
}

func (g *relayGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelay
}

// relayConn is one allocation's relay socket: what goes out to peers and
// comes in from them is charged to the allocation's and the device's
// budgets, and dropped when either is spent.
type relayConn struct {
	net.PacketConn
	q    *quotas
	id   string
	dev  *device
	own  *rate.Limiter
	once sync.Once
}

func (c *relayConn) allow(n int) bool {
	now := c.q.cfg.Clock.Now()
	if c.own.AllowN(now, n) && c.dev.budget.AllowN(now, n) {
		c.q.relayed.Add(uint64(n)) //nolint:gosec // n ≥ 0
		return true
	}
	c.q.dropped.Add(1)
	return false
}

// WriteTo sends to a peer, or drops the packet over budget (as a
// congested link would: the sender's congestion control backs off).
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.allow(len(p)) {
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}

// ReadFrom returns the next packet from a peer within budget.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.allow(n) {
			return n, addr, err
		}
	}
}

// Close releases the allocation's count once.
func (c *relayConn) Close() error {
	c.once.Do(func() { c.q.release(c.id, c.dev) })
	return c.PacketConn.Close()
}
