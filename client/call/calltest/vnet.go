package calltest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"
)

// VNet is a pion virtual network: one router, one virtual host per
// device, no sockets.
type VNet struct {
	Router *vnet.Router
	hosts  int
}

// NewVNet starts a router for 10.0.0.0/24 with a small fixed delay, so
// round-trip times are measurable. Call Close when done.
func NewVNet(tb testing.TB) *VNet {
	tb.Helper()
	r, err := vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "10.0.0.0/24",
		MinDelay:      2 * time.Millisecond,
		LoggerFactory: logging.NewDefaultLoggerFactory(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.Start(); err != nil {
		tb.Fatal(err)
	}
	return &VNet{Router: r}
}

// SettingEngine adds a host to the network and returns pion settings that
// use it: UDP4, mDNS off, short ICE timeouts.
func (v *VNet) SettingEngine(tb testing.TB) *webrtc.SettingEngine {
	tb.Helper()
	v.hosts++
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{fmt.Sprintf("10.0.0.%d", 10+v.hosts)}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.Router.AddNet(n); err != nil {
		tb.Fatal(err)
	}
	s := &webrtc.SettingEngine{}
	s.SetNet(n)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetICETimeouts(2*time.Second, 4*time.Second, 500*time.Millisecond)
	return s
}

// Close stops the router.
func (v *VNet) Close() error { return v.Router.Stop() }
