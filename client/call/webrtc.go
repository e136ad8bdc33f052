package call

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// RTP payload types and codec parameters of the two tracks. Both sides
// register exactly these, so the SDP stays small.
const (
	vp8PayloadType  = 96
	opusPayloadType = 111
	opusFmtp        = "minptime=10;useinbandfec=1"
	streamID        = "parley"
)

var (
	vp8Capability = webrtc.RTPCodecCapability{
		MimeType:  webrtc.MimeTypeVP8,
		ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: webrtc.TypeRTCPFBNACK}, {Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		},
	}
	opusCapability = webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: opusFmtp,
	}
)

// ICE timing of DefaultSettingEngine (SetICETiming). A path that carries
// nothing (no media, no checks) for ICEDisconnectedTimeout is
// disconnected, which starts an ICE restart; media keep a path alive, so a
// quiet two seconds means it broke. A relayed pair may be chosen
// RelayAcceptanceWait after the checks start, when no direct pair has
// worked by then (pion waits 2 s): long enough for a direct pair between
// members a few tens of milliseconds apart to win, short enough that a
// relayed call starts nearly as fast as a direct one; and automatic
// renomination moves a call that started relayed to a direct pair that
// works later, if it is faster.
const (
	ICEDisconnectedTimeout = 2 * time.Second
	ICEFailedTimeout       = 15 * time.Second
	ICEKeepaliveInterval   = 500 * time.Millisecond
	RelayAcceptanceWait    = 100 * time.Millisecond
	RenominationInterval   = 3 * time.Second
)

// SetICETiming applies the ICE timing above to s.
func SetICETiming(s *webrtc.SettingEngine) {
	s.SetICETimeouts(ICEDisconnectedTimeout, ICEFailedTimeout, ICEKeepaliveInterval)
	s.SetHostAcceptanceMinWait(0)
	s.SetSrflxAcceptanceMinWait(0)
	s.SetPrflxAcceptanceMinWait(0)
	s.SetRelayAcceptanceMinWait(RelayAcceptanceWait)
	_ = s.SetICERenomination(webrtc.WithRenominationInterval(RenominationInterval)) // fails only for an interval ≤ 0
}

// DefaultSettingEngine returns pion settings for a real call: host
// candidates including loopback, UDP over IPv4 (TURN servers are reached
// over UDP, TCP or TLS), mDNS off, and SetICETiming. STUN and TURN
// servers come from Config.Reach.
func DefaultSettingEngine() *webrtc.SettingEngine {
	s := &webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	SetICETiming(s)
	return s
}

// LoopbackSettingEngine returns DefaultSettingEngine restricted to the
// loopback interface: for calls between processes of one machine.
func LoopbackSettingEngine() *webrtc.SettingEngine {
	s := DefaultSettingEngine()
	s.SetInterfaceFilter(func(name string) bool {
		ifi, err := net.InterfaceByName(name)
		return err == nil && ifi.Flags&net.FlagLoopback != 0
	})
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return s
}

// Capability returns the RTP codec of a kind's track: VP8 for Video and
// Screen, Opus for Audio, as every Parley connection negotiates them.
func Capability(kind MediaKind) webrtc.RTPCodecCapability {
	if kind.IsVideo() {
		return vp8Capability
	}
	return opusCapability
}

// NewAPI builds the pion API of the page's connection to its client in
// client/webui: VP8 (with goog-remb feedback) and Opus only, with NACK,
// RTCP reports and the stats interceptor (round-trip times). The mesh's connections add congestion
// control (newMeshAPI). It takes the header extensions a browser writes
// for the media relay: the audio level (RFC 6464), which the page's
// client passes on (SetSealedAudioLevel), and mid and rid, which name
// the camera's simulcast encodings (SendSealedLayer).
func NewAPI(se *webrtc.SettingEngine) (*webrtc.API, error) {
	m, ir, err := mediaEngine()
	if err != nil {
		return nil, err
	}
	// The page's browser takes the client's REMB as a cap on its video
	// encoder (client/webui steers it to the mesh's estimate).
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBGoogREMB}, webrtc.RTPCodecTypeVideo)
	if err := registerRelayExtensions(m, true); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(*se)), nil
}

// LayerOfRID returns the simulcast layer a camera encoding's RID names
// (q, h, f), or false.
func LayerOfRID(rid string) (int, bool) {
	for i, r := range layerRIDs {
		if r == rid {
			return i, true
		}
	}
	return 0, false
}

// newCertificate makes the DTLS certificate of every connection of one
// engine: ECDSA P-256, as browsers use.
func newCertificate() (*webrtc.Certificate, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: DTLS key: %v", ErrInvalidConfig, err)
	}
	c, err := webrtc.GenerateCertificate(k)
	if err != nil {
		return nil, fmt.Errorf("%w: DTLS certificate: %v", ErrInvalidConfig, err)
	}
	return c, nil
}
