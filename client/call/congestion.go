package call

import (
	"fmt"

	"github.com/parleynet/parley/internal/bwe"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v4"
)

// audioReserve is what the video source's target leaves for audio: an
// Opus track at its highest rate, with its packet overhead.
const audioReserve = 64_000

// BitrateController is a Source that can follow a target bitrate (the
// synthetic source; an encoder would be another). The engine sets the
// video source's target to the lowest estimate of its connected peers'
// congestion controllers, less audioReserve, from the pump's goroutine.
type BitrateController interface {
	SetTargetBitrate(bitsPerSecond int)
}

// KeyframeRequester is a Source that can make its next frame a key frame
// on request (a peer lost packets, or just joined). The engine calls it
// from the pump's goroutine, between ReadFrame calls.
type KeyframeRequester interface {
	RequestKeyframe()
}

// newMeshAPI builds the pion API of the mesh: NewAPI's codecs and
// interceptors plus transport-wide congestion control — TWCC sequence
// numbers on every packet sent, TWCC feedback on every packet received,
// and Google Congestion Control estimating each connection's capacity
// from the feedback — and the ccm fir feedback, so that peers may ask for
// key frames that way too. GCC runs without its pacer: the sources follow
// the estimate, and pion's leaky-bucket pacer queues without bound.
func newMeshAPI(se *webrtc.SettingEngine, reg *bwe.Registry, initial, maxRate int) (*webrtc.API, error) {
	return buildAPI(se, reg, initial, maxRate, nil)
}

// buildAPI is newMeshAPI with extra registrations (newRelayAPI's).
func buildAPI(se *webrtc.SettingEngine, reg *bwe.Registry, initial, maxRate int, extra func(*webrtc.MediaEngine, *interceptor.Registry) error) (*webrtc.API, error) {
	m, ir, err := mediaEngine()
	if err != nil {
		return nil, err
	}
	if extra != nil {
		if err := extra(m, ir); err != nil {
			return nil, err
		}
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "ccm", Parameter: "fir"}, webrtc.RTPCodecTypeVideo)
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(initial),
			gcc.SendSideBWEMinBitrate(MinBitrate),
			gcc.SendSideBWEMaxBitrate(maxRate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: congestion control: %v", ErrInvalidConfig, err)
	}
	ccf.OnNewPeerConnection(reg.Put)
	// The cc interceptor wraps the writer before the TWCC header extension
	// interceptor does, so it sees each packet's sequence number.
	ir.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("%w: TWCC header extension: %v", ErrInvalidConfig, err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, fmt.Errorf("%w: TWCC feedback: %v", ErrInvalidConfig, err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(*se)), nil
}

// mediaEngine registers the two codecs and NewAPI's interceptors: NACK,
// RTCP reports and the stats interceptor.
func mediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Capability, PayloadType: vp8PayloadType}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, nil, fmt.Errorf("%w: register VP8: %v", ErrInvalidConfig, err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCapability, PayloadType: opusPayloadType}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, fmt.Errorf("%w: register Opus: %v", ErrInvalidConfig, err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, nil, fmt.Errorf("%w: NACK: %v", ErrInvalidConfig, err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, fmt.Errorf("%w: RTCP reports: %v", ErrInvalidConfig, err)
	}
	if err := webrtc.ConfigureStatsInterceptor(ir); err != nil {
		return nil, nil, fmt.Errorf("%w: stats: %v", ErrInvalidConfig, err)
	}
	return m, ir, nil
}

// TargetBitrate returns the lowest congestion-control estimate of the
// connected peers' paths in bit/s — what this device can send to all of
// them — or 0 while no peer is connected.
func (e *Engine) TargetBitrate() int {
	target := 0
	if l := e.relayUp(); l != nil && l.bwe != nil {
		target = l.bwe.GetTargetBitrate()
	}
	for _, p := range e.connectedPeers() {
		c := p.cur.Load()
		if c == nil || c.bwe == nil {
			continue
		}
		if b := c.bwe.GetTargetBitrate(); b > 0 && (target == 0 || b < target) {
			target = b
		}
	}
	return target
}
