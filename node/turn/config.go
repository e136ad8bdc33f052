package turn

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v4"
)

// Defaults of Config.
const (
	DefaultPort                 = 3478
	DefaultRealm                = "parley"
	DefaultRelayPortMin         = 49152
	DefaultRelayPortMax         = 65535
	DefaultCredentialTTL        = 10 * time.Minute
	DefaultRefreshGrace         = 2 * time.Hour
	DefaultMaxAllocations       = 2000
	DefaultMaxDeviceAllocations = 32
	DefaultAllocationBandwidth  = 5_000_000  // bit/s: a 720p call and its headroom
	DefaultDeviceBandwidth      = 20_000_000 // bit/s: an 8-member mesh sending relayed
	// MinSecretSize is the shortest secret accepted, in bytes.
	MinSecretSize = 16
)

// Config configures a Server. Secret and PublicIP are required; the rest
// take the defaults above.
type Config struct {
	// UDP and TCP are the host:port addresses the server answers STUN and
	// TURN on (UDP by default 0.0.0.0:3478, TCP none). TURN over TCP is for
	// networks that block UDP: the client reaches the node over TCP, the
	// relay still sends UDP to peers.
	UDP []string
	TCP []string
	// TLS addresses answer TURN over TLS ("turns:"), with TLSConfig, which
	// is required when TLS is set.
	TLS       []string
	TLSConfig *tls.Config
	// PublicIP is the address clients and peers reach the node at; relay
	// addresses and URLs carry it.
	PublicIP net.IP
	// URLHost is the host the URLs name (a DNS name matching the TLS
	// certificate); PublicIP by default.
	URLHost string
	// RelayAddress is the local address relay sockets bind to (default
	// 0.0.0.0), and RelayPortMin..RelayPortMax their port range (default
	// 49152-65535): open these to UDP in the node's firewall.
	RelayAddress               string
	RelayPortMin, RelayPortMax uint16
	// Realm is the TURN realm (default "parley").
	Realm string
	// Secret is the HMAC key of the credentials, at least MinSecretSize
	// bytes (LoadOrCreateSecret makes one).
	Secret []byte
	// CredentialTTL is how long an issued credential may open allocations
	// (default 10 minutes).
	CredentialTTL time.Duration
	// RefreshGrace is how long past its expiry a credential may still
	// refresh the allocations, permissions and channels it opened (default
	// 2 hours): a call outlives its credential, but not by much; then the
	// client restarts ICE with a fresh one.
	RefreshGrace time.Duration
	// MaxAllocations bounds the node's allocations (default 2000) and
	// MaxDeviceAllocations one device's (default 32: 7 peers × UDP and TCP
	// transports, twice over during an ICE restart).
	MaxAllocations       int
	MaxDeviceAllocations int
	// AllocationBandwidth and DeviceBandwidth bound what one allocation and
	// all of one device's allocations relay, both directions together, in
	// bit/s (defaults 5 and 20 Mbit/s). Over budget, packets are dropped.
	AllocationBandwidth int
	DeviceBandwidth     int
	// AllowPrivatePeers lets the relay send to private addresses (RFC 1918,
	// fc00::/7): for a relay serving a LAN, and for tests.
	AllowPrivatePeers bool
	// Net, optional, is the network: pion's vnet in tests; the OS's by
	// default.
	Net transport.Net
	// Clock defaults to SystemClock.
	Clock Clock
	// LoggerFactory defaults to pion's default (errors to stderr).
	LoggerFactory logging.LoggerFactory
}

func (c Config) withDefaults() Config {
	if len(c.UDP) == 0 && len(c.TCP) == 0 && len(c.TLS) == 0 {
		c.UDP = []string{fmt.Sprintf("0.0.0.0:%d", DefaultPort)}
	}
	if c.RelayAddress == "" {
		c.RelayAddress = "0.0.0.0"
	}
	if c.RelayPortMin == 0 && c.RelayPortMax == 0 {
		c.RelayPortMin, c.RelayPortMax = DefaultRelayPortMin, DefaultRelayPortMax
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.CredentialTTL <= 0 {
		c.CredentialTTL = DefaultCredentialTTL
	}
	if c.RefreshGrace <= 0 {
		c.RefreshGrace = DefaultRefreshGrace
	}
	if c.MaxAllocations <= 0 {
		c.MaxAllocations = DefaultMaxAllocations
	}
	if c.MaxDeviceAllocations <= 0 {
		c.MaxDeviceAllocations = DefaultMaxDeviceAllocations
	}
	if c.AllocationBandwidth <= 0 {
		c.AllocationBandwidth = DefaultAllocationBandwidth
	}
	if c.DeviceBandwidth <= 0 {
		c.DeviceBandwidth = DefaultDeviceBandwidth
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case len(c.Secret) < MinSecretSize:
		return fmt.Errorf("%w: Secret is %d bytes, want at least %d", ErrInvalidConfig, len(c.Secret), MinSecretSize)
	case c.PublicIP == nil || c.PublicIP.IsUnspecified():
		return fmt.Errorf("%w: PublicIP is required: the address clients and peers reach this node at", ErrInvalidConfig)
	case c.RelayPortMin == 0 || c.RelayPortMax < c.RelayPortMin:
		return fmt.Errorf("%w: relay ports %d-%d", ErrInvalidConfig, c.RelayPortMin, c.RelayPortMax)
	case len(c.TLS) > 0 && c.TLSConfig == nil:
		return fmt.Errorf("%w: TLS addresses need a TLSConfig (certificate and key)", ErrInvalidConfig)
	case c.MaxDeviceAllocations > c.MaxAllocations:
		return fmt.Errorf("%w: MaxDeviceAllocations %d exceeds MaxAllocations %d", ErrInvalidConfig, c.MaxDeviceAllocations, c.MaxAllocations)
	}
	return nil
}
