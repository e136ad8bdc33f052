package calltest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/call"
)

// WANCIDR is the virtual internet's address range: TEST-NET-3, public
// addresses to everything that checks (private ones are 10.x LANs).
const WANCIDR = "203.0.113.0/24"

// Common NAT types of pion's vnet (RFC 4787 terms).
var (
	// EndpointIndependentNAT maps one inside address to one outside
	// address whatever the destination, and lets anyone answer it: STUN
	// shows a member the address peers can reach it at.
	EndpointIndependentNAT = vnet.NATType{
		MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent,
		MappingLifeTime: 30 * time.Second,
	}
	// SymmetricNAT maps each destination to another outside port and lets
	// only that destination answer: the address STUN shows is useless to
	// peers, and only a relay gets through.
	SymmetricNAT = vnet.NATType{
		MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent,
		MappingLifeTime: 30 * time.Second,
	}
)

// Link shapes the link from the internet into a LAN (each direction of a
// call between two LANs crosses one such link).
type Link struct {
	Rate   int           // bit/s; 0 for unlimited
	Delay  time.Duration // one way
	Jitter time.Duration // the delay wanders within Delay ± Jitter (packets stay in order)
	Loss   int           // percent of packets dropped
}

// LAN is a network behind a NAT on an Internet.
type LAN struct {
	Router   *vnet.Router
	PublicIP string // the NAT's outside address
	Loss     *vnet.LossFilter
	TBF      *vnet.TBFQueue
	Delay    *vnet.DelayFilter
	prefix   string
	hosts    int

	stopJitter, jitterDone chan struct{}
	queue                  *vnet.Queue
}

// Internet is a virtual internet (WANCIDR) with LANs behind NATs,
// started by NewInternet and stopped by the test's Cleanup.
type Internet struct {
	WAN  *vnet.Router
	LANs []*LAN
	next int
}

// LANConfig describes one LAN of NewInternet.
type LANConfig struct {
	NAT  vnet.NATType
	Link Link
}

// NewInternet builds the WAN and one LAN per config (10.1.0.0/24,
// 10.2.0.0/24, … behind NATs at 203.0.113.101, .102, …) and starts it.
// Add servers with the WAN router (turntest.Start) and members with
// LAN.SettingEngine.
func NewInternet(tb testing.TB, lans ...LANConfig) *Internet {
	tb.Helper()
	lf := logging.NewDefaultLoggerFactory()
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: WANCIDR, LoggerFactory: lf})
	if err != nil {
		tb.Fatal(err)
	}
	in := &Internet{WAN: wan, next: 10}
	for i, lc := range lans {
		nat := lc.NAT
		public := fmt.Sprintf("203.0.113.%d", 101+i)
		r, err := vnet.NewRouter(&vnet.RouterConfig{
			CIDR: fmt.Sprintf("10.%d.0.0/24", i+1), StaticIPs: []string{public}, NATType: &nat,
			LoggerFactory: lf,
		})
		if err != nil {
			tb.Fatal(err)
		}
		lan := &LAN{Router: r, PublicIP: public, prefix: fmt.Sprintf("10.%d.0.", i+1)}
		var nic vnet.NIC = r
		if lan.Delay, err = vnet.NewDelayFilter(nic, vnet.WithDelay(lc.Link.Delay)); err != nil {
			tb.Fatal(err)
		}
		nic = lan.Delay
		lan.SetDelay(lc.Link.Delay, lc.Link.Jitter)
		lan.Loss, err = vnet.NewLossFilter(nic, lc.Link.Loss)
		if err != nil {
			tb.Fatal(err)
		}
		nic = lan.Loss
		if lc.Link.Rate > 0 {
			lan.TBF = vnet.NewTBFQueue(lc.Link.Rate, 16*1024, 64*1024)
			q, err := vnet.NewQueue(nic, lan.TBF)
			if err != nil {
				tb.Fatal(err)
			}
			nic = q
			lan.queue = q
		}
		if err := wan.AddNet(nic); err != nil {
			tb.Fatal(err)
		}
		if err := wan.AddChildRouter(r); err != nil {
			tb.Fatal(err)
		}
		in.LANs = append(in.LANs, lan)
	}
	if err := wan.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		for _, l := range in.LANs {
			l.SetDelay(0, 0)
		}
		_ = wan.Stop()
		// A router may make more passes over its queue after Stop, and the
		// delay filter takes packets without a way out: once closed it
		// would block the router for good. So the loss filter in front of
		// it drops everything first, and the delay filter closes once the
		// packet it may be taking is in.
		for _, l := range in.LANs {
			_ = l.Loss.SetLossRate(100, true)
		}
		time.Sleep(20 * time.Millisecond)
		for _, l := range in.LANs {
			if l.queue != nil {
				_ = l.queue.Close()
			}
			_ = l.Delay.Close()
		}
	})
	return in
}

// SetDelay sets the link's one-way delay; with jitter > 0 it wanders at
// random within delay ± jitter, a new value every 20 ms, the way queues
// on a real path grow and drain (a vnet router's own jitter holds its
// lock while it sleeps, and stalls every sender).
func (l *LAN) SetDelay(delay, jitter time.Duration) {
	if l.stopJitter != nil {
		close(l.stopJitter)
		<-l.jitterDone
		l.stopJitter = nil
	}
	l.Delay.SetDelay(delay)
	if jitter <= 0 {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	l.stopJitter, l.jitterDone = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.Delay.SetDelay(max(0, delay-jitter+time.Duration(rand.Int64N(int64(2*jitter)))))
			}
		}
	}()
}

// SettingEngine adds a member's host to the LAN and returns pion settings
// that use it: UDP4, mDNS off, call.SetICETiming.
func (l *LAN) SettingEngine(tb testing.TB) *webrtc.SettingEngine {
	tb.Helper()
	l.hosts++
	return hostSettings(tb, l.Router, l.prefix+fmt.Sprint(10+l.hosts))
}

// IP returns the address of the LAN's n-th host (1-based).
func (l *LAN) IP(n int) string { return l.prefix + fmt.Sprint(10+n) }

// SettingEngine adds a member's host straight on the internet, with a
// public address and no NAT.
func (in *Internet) SettingEngine(tb testing.TB) *webrtc.SettingEngine {
	tb.Helper()
	in.next++
	return hostSettings(tb, in.WAN, fmt.Sprintf("203.0.113.%d", in.next))
}

func hostSettings(tb testing.TB, r *vnet.Router, ip string) *webrtc.SettingEngine {
	tb.Helper()
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.AddNet(n); err != nil {
		tb.Fatal(err)
	}
	s := &webrtc.SettingEngine{}
	s.SetNet(n)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	call.SetICETiming(s)
	return s
}
