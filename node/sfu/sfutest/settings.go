package sfutest

import (
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// LoopbackSettingEngine returns pion settings for peers of one machine:
// host candidates on the loopback interface over UDP4, mDNS off, and ICE
// timeouts short enough that a dead peer is noticed within a test.
func LoopbackSettingEngine() *webrtc.SettingEngine {
	s := &webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetInterfaceFilter(func(name string) bool {
		ifi, err := net.InterfaceByName(name)
		return err == nil && ifi.Flags&net.FlagLoopback != 0
	})
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICETimeouts(2*time.Second, 4*time.Second, 500*time.Millisecond)
	s.LoggerFactory = QuietLoggers()
	return s
}

// QuietLoggers is a pion logger factory that prints errors only.
func QuietLoggers() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelError
	return f
}
