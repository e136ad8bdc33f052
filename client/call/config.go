package call

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"
	"time"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Defaults of Config's optional fields.
const (
	// DefaultReconnectTimeout: a connection that is not up this long after
	// its offer (or its last ICE restart) is started again.
	DefaultReconnectTimeout = 10 * time.Second
	// DefaultInterfaceWatch: how often the engine looks for a change of
	// this device's addresses, which starts an ICE restart at once.
	DefaultInterfaceWatch = time.Second
	// DefaultInitialBitrate and DefaultMaxBitrate bound the congestion
	// controller's estimate of each connection (bit/s).
	DefaultInitialBitrate = 1_000_000
	DefaultMaxBitrate     = 8_000_000
	// MinBitrate is the least the estimate goes down to.
	MinBitrate = 50_000
	// DefaultKeyTransition bounds how long this device keeps sending under
	// the previous epoch's key after it installs a new epoch, waiting for
	// every member to say it holds the new keys (KindKeys).
	DefaultKeyTransition = 2 * time.Second
	// DefaultGrace is how long the previous epoch's receive keys stay
	// usable after a new epoch: the transition, plus up to 3 s between
	// two members learning of the epoch.
	DefaultGrace = 5 * time.Second
)

// RelaySource fetches TURN servers with time-limited credentials — the
// nodes' relays (client/mailbox's Client.RelaySource) — and says when the
// credentials stop opening allocations.
type RelaySource func(ctx context.Context) (servers []webrtc.ICEServer, expires time.Time, err error)

// Reach says how the engine reaches members on other networks
// (PROTOCOL.md section 11). The zero Reach gathers host candidates only.
type Reach struct {
	// Servers are fixed STUN and TURN servers (parley's --ice-server),
	// used beside the relays.
	Servers []webrtc.ICEServer
	// Relays, optional, fetches the nodes' TURN servers. The engine asks
	// once as it starts (waiting up to RelayWait), then again before the
	// credentials expire, on a goroutine of its own; every new connection
	// and ICE restart takes the latest answer.
	Relays RelaySource
	// RelayOnly gathers relay candidates only (ICE transport policy
	// "relay"): no host or server-reflexive address of this device ever
	// reaches another member, at the cost of a relay hop. It needs a TURN
	// server in Servers or from Relays.
	RelayOnly bool
}

// RelayWait bounds how long Run waits for the first answer of
// Reach.Relays before it connects with what it has.
const RelayWait = 5 * time.Second

// Config configures an Engine. The fields without "optional" are required.
type Config struct {
	// This device, as the chain names it.
	UserID   string
	DeviceID string
	// DeviceKey signs signals: the device's Ed25519 key (an
	// ed25519.PrivateKey or a keystore's crypto.Signer).
	DeviceKey crypto.Signer
	// EphemeralKey opens signals sealed to this device: the private half
	// of the ephemeral key it published for this meeting.
	EphemeralKey hpke.PrivateKey
	// ChainID and MeetingID (16 bytes) bind every signal to this meeting.
	ChainID   string
	MeetingID []byte
	// Transport carries the signals.
	Transport Transport

	// SettingEngine, optional, configures pion: tests pass one with
	// SetNet(vnet). Nil means DefaultSettingEngine(). The engine copies it.
	SettingEngine *webrtc.SettingEngine
	// ICEServers, optional: STUN and TURN servers, as Reach.Servers. None
	// by default: host candidates only.
	ICEServers []webrtc.ICEServer
	// Reach, optional: relays, fixed servers and relay-only mode.
	Reach Reach
	// Video and Audio, optional, are what this device sends: VP8 frames
	// and Opus packets. Without one the track is negotiated but silent.
	// A Video that is a SimulcastSource goes to a media relay as three
	// layers (simulcast.go).
	Video Source
	Audio Source
	// Screen, optional, is a shared screen: VP8 frames on a third track.
	Screen Source
	// Sinks, optional, receives every remote track's decrypted frames;
	// DiscardSinks() by default.
	Sinks SinkFactory
	// Grace, optional, is how long the previous epoch's receive keys stay
	// usable (DefaultGrace by default).
	Grace time.Duration
	// KeyTransition, optional, bounds how long frames stay under the
	// previous epoch's key after SetEpoch (DefaultKeyTransition by
	// default). A removed member's exclusion is never delayed beyond it.
	KeyTransition time.Duration
	// OnSendEpoch, optional, is told the epoch this device's frames move
	// to, from the engine's goroutine or a timer's; it must not block. A page that seals
	// its own frames (SendSealed) switches its key on it.
	OnSendEpoch func(epoch uint64)
	// OnMessage, optional, receives each in-call message from a member
	// (message.go), on the engine's goroutine; it must not block.
	OnMessage func(Message)
	// ReconnectTimeout, optional: DefaultReconnectTimeout by default.
	ReconnectTimeout time.Duration
	// InterfaceWatch, optional, is how often the engine compares this
	// device's IP addresses with the last ones, restarting ICE on every
	// connection when they changed (DefaultInterfaceWatch by default; a
	// negative value turns it off).
	InterfaceWatch time.Duration
	// InitialBitrate and MaxBitrate, optional, bound each connection's
	// congestion controller (DefaultInitialBitrate, DefaultMaxBitrate).
	InitialBitrate int
	MaxBitrate     int
	// LoggerFactory, optional: pion's default logger factory by default.
	LoggerFactory logging.LoggerFactory

	// MediaRelay, optional, connects this device to a node's media relay
	// (relaylink.go; PROTOCOL.md section 12). With it, a roster of more
	// than MeshLimit members is carried by the relay instead of the mesh,
	// and rosters of up to MaxRelayMembers are taken.
	MediaRelay MediaRelayDialer
	// MeshLimit, optional: rosters up to this size stay on the mesh
	// (DefaultMeshLimit by default).
	MeshLimit int
	// LastN, optional: how many members' videos this device takes from
	// the relay, 1 to MaxLastN (DefaultLastN by default).
	LastN int
	// SealedSimulcast, optional: the camera comes sealed in three layers
	// (SendSealedLayer: a browser page's simulcast encoder), which a
	// media relay gets as three encodings, like a SimulcastSource's.
	SealedSimulcast bool
}

// check validates the required fields and fills in the defaults.
func (c *Config) check() error {
	if err := checkIDs(c.UserID, c.DeviceID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.DeviceKey == nil {
		return fmt.Errorf("%w: DeviceKey is required", ErrInvalidConfig)
	}
	if _, ok := c.DeviceKey.Public().(ed25519.PublicKey); !ok {
		return fmt.Errorf("%w: DeviceKey has a %T public key, want ed25519.PublicKey", ErrInvalidConfig, c.DeviceKey.Public())
	}
	if c.EphemeralKey == nil {
		return fmt.Errorf("%w: EphemeralKey is required", ErrInvalidConfig)
	}
	if id, want := c.EphemeralKey.KEM().ID(), hpke.MLKEM768X25519().ID(); id != want {
		return fmt.Errorf("%w: EphemeralKey is for KEM 0x%04x, want MLKEM768-X25519 (0x%04x)", ErrInvalidConfig, id, want)
	}
	if err := checkChainID(c.ChainID); err != nil {
		return err
	}
	if len(c.MeetingID) != MeetingIDSize {
		return fmt.Errorf("%w: MeetingID is %d bytes, want %d", ErrInvalidConfig, len(c.MeetingID), MeetingIDSize)
	}
	if c.Transport == nil {
		return fmt.Errorf("%w: Transport is required", ErrInvalidConfig)
	}
	if c.SettingEngine == nil {
		c.SettingEngine = DefaultSettingEngine()
	}
	if c.Sinks == nil {
		c.Sinks = DiscardSinks()
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.KeyTransition <= 0 {
		c.KeyTransition = DefaultKeyTransition
	}
	if c.ReconnectTimeout <= 0 {
		c.ReconnectTimeout = DefaultReconnectTimeout
	}
	if c.InterfaceWatch == 0 {
		c.InterfaceWatch = DefaultInterfaceWatch
	}
	if c.MaxBitrate <= 0 {
		c.MaxBitrate = DefaultMaxBitrate
	}
	if c.InitialBitrate <= 0 {
		c.InitialBitrate = min(DefaultInitialBitrate, c.MaxBitrate)
	}
	if c.InitialBitrate < MinBitrate || c.InitialBitrate > c.MaxBitrate {
		return fmt.Errorf("%w: InitialBitrate %d outside %d..MaxBitrate %d", ErrInvalidConfig, c.InitialBitrate, MinBitrate, c.MaxBitrate)
	}
	c.Reach.Servers = append(append([]webrtc.ICEServer(nil), c.ICEServers...), c.Reach.Servers...)
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	c.MeetingID = append([]byte(nil), c.MeetingID...)
	if c.MeshLimit <= 0 {
		c.MeshLimit = DefaultMeshLimit
	}
	if c.MeshLimit > MaxMembers {
		return fmt.Errorf("%w: MeshLimit %d above the mesh's %d", ErrInvalidConfig, c.MeshLimit, MaxMembers)
	}
	if c.LastN == 0 {
		c.LastN = DefaultLastN
	}
	if c.LastN < 1 || c.LastN > MaxLastN {
		return fmt.Errorf("%w: LastN %d, want 1 to %d", ErrInvalidConfig, c.LastN, MaxLastN)
	}
	return nil
}
