package sfu

import (
	"fmt"

	"github.com/parleynet/parley/internal/bwe"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v4"
)

// The codecs of the wire contract. Both sides register exactly these.
const (
	VP8PayloadType  = 96
	OpusPayloadType = 111
	OpusFmtp        = "minptime=10;useinbandfec=1"
)

// Header extension URIs of the wire contract besides pion's sdp constants.
const (
	AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
)

// Capabilities of the two codecs. transport-cc feedback is added by
// webrtc.ConfigureTWCCSender.
var (
	VP8Capability = webrtc.RTPCodecCapability{
		MimeType:  webrtc.MimeTypeVP8,
		ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: webrtc.TypeRTCPFBNACK},
			{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
			{Type: webrtc.TypeRTCPFBGoogREMB},
		},
	}
	OpusCapability = webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: OpusFmtp,
	}
)

// Bit rates of the relay's congestion controller towards each subscriber.
const (
	initialBitrate = 1_000_000
	minBitrate     = 30_000
	maxBitrate     = 20_000_000
)

// MediaEngine registers the contract's codecs and header extensions:
// VP8/96 and Opus/111, ssrc-audio-level on audio, the simulcast SDES
// extensions (mid, rtp-stream-id, repaired-rtp-stream-id) on video.
// transport-wide-cc comes with ConfigureTWCC*. Exported so that test
// clients negotiate exactly what the relay does.
func MediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: VP8Capability, PayloadType: VP8PayloadType}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register VP8: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: OpusCapability, PayloadType: OpusPayloadType}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register Opus: %w", err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register audio level: %w", err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, fmt.Errorf("register simulcast extensions: %w", err)
	}
	return m, nil
}

// newAPI builds the relay's pion API: MediaEngine plus NACK (responder
// towards subscribers, generator towards publishers), RTCP sender and
// receiver reports, and transport-wide congestion control — TWCC
// sequence numbers on every packet sent, TWCC feedback on every packet
// received, and a Google Congestion Control estimator per connection,
// reported through reg, for the relay→subscriber direction. GCC runs
// without a pacer: the relay follows the estimate by choosing layers, and
// pion's leaky-bucket pacer queues without bound.
func newAPI(se webrtc.SettingEngine, reg *bwe.Registry) (*webrtc.API, error) {
	m, err := MediaEngine()
	if err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, fmt.Errorf("NACK: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("RTCP reports: %w", err)
	}
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(initialBitrate),
			gcc.SendSideBWEMinBitrate(minBitrate),
			gcc.SendSideBWEMaxBitrate(maxBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(reg.Put)
	// The cc interceptor wraps the writer before the TWCC header extension
	// interceptor does, so it sees each packet's sequence number.
	ir.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("TWCC header extension: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, fmt.Errorf("TWCC feedback: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// extensionID returns the ID negotiated for uri, or 0.
func extensionID(exts []webrtc.RTPHeaderExtensionParameter, uri string) uint8 {
	for _, e := range exts {
		if e.URI == uri && e.ID > 0 && e.ID < 15 {
			return uint8(e.ID)
		}
	}
	return 0
}
