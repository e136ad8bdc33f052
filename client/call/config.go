package call

import (
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
	// its offer is started again.
	DefaultReconnectTimeout = 10 * time.Second
)

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
	// ICEServers, optional: STUN and TURN servers. None by default: host
	// candidates only.
	ICEServers []webrtc.ICEServer
	// Video and Audio, optional, are what this device sends: VP8 frames
	// and Opus packets. Without one the track is negotiated but silent.
	Video Source
	Audio Source
	// Sinks, optional, receives every remote track's decrypted frames;
	// DiscardSinks() by default.
	Sinks SinkFactory
	// Grace, optional, is how long the previous epoch's receive keys stay
	// usable (sframe.DefaultGrace by default).
	Grace time.Duration
	// ReconnectTimeout, optional: DefaultReconnectTimeout by default.
	ReconnectTimeout time.Duration
	// LoggerFactory, optional: pion's default logger factory by default.
	LoggerFactory logging.LoggerFactory
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
	if c.ReconnectTimeout <= 0 {
		c.ReconnectTimeout = DefaultReconnectTimeout
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	c.MeetingID = append([]byte(nil), c.MeetingID...)
	return nil
}
