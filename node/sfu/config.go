package sfu

import (
	"context"
	"time"

	"github.com/parleynet/parley/internal/ids"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Defaults of Config.
const (
	DefaultMaxSessions   = 500
	DefaultMaxPerMeeting = 200
	DefaultRecheckEvery  = time.Second
)

// Limits on what a Join may carry. They bound every map and string the
// relay keeps per client.
const (
	maxIDLen       = 256      // bytes of meeting ID
	maxOfferLen    = 64 << 10 // bytes of offer SDP
	maxAudioSlots  = 3        // ra0..ra2
	maxVideoSlots  = 16       // rv0..rv15
	connectTimeout = 20 * time.Second
)

// Config configures a Relay. The zero value is usable: every field has a
// default.
type Config struct {
	// SettingEngine configures pion. Nil: DefaultSettingEngine. The relay
	// copies it.
	SettingEngine *webrtc.SettingEngine
	// MaxSessions caps sessions relay-wide (DefaultMaxSessions).
	MaxSessions int
	// MaxPerMeeting caps sessions per meeting (DefaultMaxPerMeeting).
	MaxPerMeeting int
	// RecheckEvery is how often StillMember is asked about each session
	// (DefaultRecheckEvery).
	RecheckEvery time.Duration
	// StillMember tells whether a member admitted earlier may still be
	// served. False drops the session; an error keeps it (the question is
	// asked again at the next recheck). It must return when ctx ends
	// (after max(RecheckEvery, 1 s), or at Close). Nil: always true.
	StillMember func(ctx context.Context, meetingID []byte, user, device string) (bool, error)
	// Now is the relay's clock (time.Now): rate limits, key-frame request
	// spacing, bit-rate measurement and speech windows read it.
	Now func() time.Time
	// LoggerFactory makes the relay's and pion's loggers. Nil: pion's
	// default factory.
	LoggerFactory logging.LoggerFactory
	// Tamper, for tests that play a hostile relay only (parleyd never
	// sets it), sees each packet from a member's kind ("audio", "video",
	// "screen") track as the relay is about to send it to another member
	// and returns the packets to send instead: altered, none, or more
	// (replays). Its packets must not alias pkt's payload, which other
	// members' copies share.
	Tamper func(from, to ids.DeviceRef, kind string, pkt *rtp.Packet) []*rtp.Packet
	// Estimate, for tests only (parleyd never sets it), overrides the
	// congestion controller's estimate of what the relay may send a
	// member, in bit/s, when it returns more than 0: tests of clients
	// constrain a subscriber this way where the loopback network they
	// run on cannot. It is called in every allocation round and must not
	// block.
	Estimate func(member ids.DeviceRef) int
	// Peers links the relay with the relays of other nodes (the cascade,
	// doc.go); the caller hands their messages to HandlePeer and their
	// departures to PeerGone. Nil: the relay serves its own sessions
	// only.
	Peers Peers
}

func (c Config) withDefaults() Config {
	if c.SettingEngine == nil {
		c.SettingEngine = DefaultSettingEngine()
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxPerMeeting <= 0 {
		c.MaxPerMeeting = DefaultMaxPerMeeting
	}
	if c.RecheckEvery <= 0 {
		c.RecheckEvery = DefaultRecheckEvery
	}
	if c.StillMember == nil {
		c.StillMember = func(context.Context, []byte, string, string) (bool, error) { return true, nil }
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return c
}

// DefaultSettingEngine returns the relay's pion settings when
// Config.SettingEngine is nil: host candidates over UDP4, loopback
// included, mDNS off. A relay with a public address sets
// SetNAT1To1IPs or an ICE UDP mux in its own.
func DefaultSettingEngine() *webrtc.SettingEngine {
	s := &webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return s
}
