package call

import (
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// pliInterval bounds how often a receiver asks one peer for a key frame.
const pliInterval = 500 * time.Millisecond

// keyframes carries peers' key-frame requests (PLI, FIR) to whatever
// encodes this device's video, camera or screen (one signal for both: a
// key frame of each costs little and a request names no track): the video
// and screen Sources, through the pump, and
// anyone reading Engine.KeyframeRequests (the page's bridge, which asks
// the browser's encoder).
type keyframes struct {
	pending atomic.Bool
	ch      chan struct{}
}

func newKeyframes() keyframes { return keyframes{ch: make(chan struct{}, 1)} }

// request notes a request; requests that come while one is pending merge.
func (k *keyframes) request() {
	k.pending.Store(true)
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// KeyframeRequests delivers a value whenever a peer asked for a key frame
// of this device's video (requests in a row merge into one). A video
// Source that implements KeyframeRequester is told as well.
func (e *Engine) KeyframeRequests() <-chan struct{} { return e.kf.ch }

// readRTCP drains one local track's RTCP on a connection (counting on
// stats, the peer's or the relay's), which
// feeds the interceptors (NACK, reports, congestion control), and answers
// a video key-frame request. rid names a simulcast encoding of s, "" for
// a sender of one stream. It returns when the connection closes.
func (e *Engine) readRTCP(stats *mediaCounters, kind MediaKind, s *webrtc.RTPSender, rid string) {
	read := s.ReadRTCP
	if rid != "" {
		read = func() ([]rtcp.Packet, interceptor.Attributes, error) { return s.ReadSimulcastRTCP(rid) }
	}
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		if !kind.IsVideo() {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				stats.keyframeReqs.Add(1)
				e.kf.request()
			}
		}
	}
}

// pliLimiter paces one remote video track's key-frame requests.
type pliLimiter struct {
	last time.Time
}

// due reports whether a request may go now, and if so counts it as sent.
func (l *pliLimiter) due() bool {
	now := time.Now()
	if now.Sub(l.last) < pliInterval {
		return false
	}
	l.last = now
	return true
}

// askKeyframe asks the peer for a key frame of its video track: when the
// track starts (so that a member who joins sees a picture at once) and
// when a frame was lost for good (packets the NACKs did not recover).
func (e *Engine) askKeyframe(c *conn, ssrc webrtc.SSRC, l *pliLimiter) {
	if !l.due() {
		return
	}
	if err := c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}}); err != nil {
		e.log.Debugf("PLI on session %s: %v", c.session, err)
	}
}
