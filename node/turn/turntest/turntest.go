// Package turntest starts node/turn servers for tests, the way
// net/http/httptest starts HTTP servers: on a pion virtual network, with
// a fixed secret, stopped by the test's Cleanup. It is for tests only.
package turntest

import (
	"net"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/node/turn"
)

// Secret is the credential secret of the servers this package starts.
var Secret = []byte("turntest-secret-0123456789abcdef")

// Start adds a host with address ip to router and runs a TURN server on
// it, listening on UDP ip:3478 unless cfg names addresses (vnet has no
// TCP listeners), relaying from ports 50000-50999 of ip, sending to private
// peers (vnet LANs are private). Fields set in cfg win.
func Start(tb testing.TB, router *vnet.Router, ip string, cfg turn.Config) *turn.Server {
	tb.Helper()
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := router.AddNet(n); err != nil {
		tb.Fatal(err)
	}
	if cfg.UDP == nil && cfg.TCP == nil && cfg.TLS == nil {
		cfg.UDP = []string{ip + ":3478"}
	}
	if cfg.PublicIP == nil {
		cfg.PublicIP = net.ParseIP(ip)
	}
	if cfg.RelayAddress == "" {
		cfg.RelayAddress = ip
	}
	if cfg.RelayPortMin == 0 {
		cfg.RelayPortMin, cfg.RelayPortMax = 50000, 50999
	}
	if cfg.Secret == nil {
		cfg.Secret = Secret
	}
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	cfg.Net = n
	cfg.AllowPrivatePeers = true
	s, err := turn.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// ICEServers returns s's URLs with a fresh credential for subject, as the
// node's mailbox would hand them to that device.
func ICEServers(s *turn.Server, subject string) []webrtc.ICEServer {
	c := s.Issue(subject)
	return []webrtc.ICEServer{{URLs: s.URLs(), Username: c.Username, Credential: c.Password}}
}
