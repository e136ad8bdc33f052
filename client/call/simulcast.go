package call

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Simulcast layers of the camera on a relay, lowest first: the index of
// each layer's frame in SimulcastSource.ReadLayers and in
// RelayStats.Layers.
const (
	LayerQ    = 0 // quarter
	LayerH    = 1 // half
	LayerF    = 2 // full
	NumLayers = 3
)

// layerRIDs are the layers' RTP stream IDs, as the relay's wire contract
// names them (a=simulcast:send q;h;f).
var layerRIDs = [NumLayers]string{"q", "h", "f"}

// SimulcastSource is a video Source that encodes each picture in up to
// three layers (a browser's simulcast encoder; SimulcastSyntheticSource).
// When the camera's source is one and the engine has a media relay, the
// relay link publishes the camera as three encodings of one transceiver,
// RIDs q, h and f, and the relay forwards each subscriber the layer its
// bandwidth allows. The mesh, which has no one to choose for it, gets the
// full layer, as it would get ReadFrame's frames. The engine calls
// ReadLayers instead of ReadFrame, from one goroutine.
type SimulcastSource interface {
	Source
	// ReadLayers returns the next frame of each layer, indexed LayerQ,
	// LayerH, LayerF, and how long they play; nil: that layer has no
	// frame this time (its previous one plays on, and its timestamps
	// move on by duration all the same). A key frame of one layer should come with key
	// frames of the others: the relay moves a subscriber to another
	// layer only at one of its key frames. The bytes are the engine's
	// only until the next call.
	ReadLayers() (layers [NumLayers][]byte, duration time.Duration, err error)
}

// newLayerTracks makes the camera's three layer tracks of the relay link
// when the video source is simulcast (or the camera comes sealed in
// layers, SendSealedLayer) and there is a relay to send them to;
// otherwise none, and the camera is one stream everywhere.
func newLayerTracks(cfg *Config) ([NumLayers]*webrtc.TrackLocalStaticSample, error) {
	var out [NumLayers]*webrtc.TrackLocalStaticSample
	if _, ok := cfg.Video.(SimulcastSource); (!ok && !cfg.SealedSimulcast) || cfg.MediaRelay == nil {
		return out, nil
	}
	for i, rid := range layerRIDs {
		t, err := webrtc.NewTrackLocalStaticSample(Capability(Video), Video.String(), streamID, webrtc.WithRTPStreamID(rid))
		if err != nil {
			return out, fmt.Errorf("%w: camera layer %s: %v", ErrInvalidConfig, rid, err)
		}
		out[i] = t
	}
	return out, nil
}

// simulcast reports whether the camera goes to the relay as three layers.
func (e *Engine) simulcast() bool { return e.layers[LayerQ] != nil }

// addLayerTransceiver adds the camera's sendonly transceiver to a relay
// link as three encodings, q, h and f, with mid pv, notes each one's SSRC
// for sdesInterceptor, and reads each one's RTCP.
func (e *Engine) addLayerTransceiver(l *relayLink) error {
	tr, err := l.pc.AddTransceiverFromTrack(e.layers[LayerQ], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("relay camera layers: %w", err)
	}
	if err := tr.SetMid(midPubVideo); err != nil {
		return fmt.Errorf("relay camera layers: %w", err)
	}
	for _, t := range e.layers[LayerQ+1:] {
		if err := tr.Sender().AddEncoding(t); err != nil {
			return fmt.Errorf("relay camera layer %s: %w", t.RID(), err)
		}
	}
	// pion draws the encodings' SSRCs here and binds the streams under
	// them once the answer is in.
	for _, enc := range tr.Sender().GetParameters().Encodings {
		ssrc := uint32(enc.SSRC)
		e.layerSSRCs.put(ssrc, enc.RID)
		l.layerSSRCs = append(l.layerSSRCs, ssrc)
	}
	for _, rid := range layerRIDs {
		e.wg.Go(func() { e.readRTCP(&e.relayStats, Video, tr.Sender(), rid) })
	}
	return nil
}

// LayerStats is what the relay link carried of one layer of a simulcast
// camera.
type LayerStats struct {
	RID                   string // q, h or f
	FramesSent, BytesSent uint64
}

// layerCounters count LayerStats.
type layerCounters struct{ frames, bytes atomic.Uint64 }

// skipLayer moves the RTP clock of the tracks a frame of layer would have
// gone to on by d, sending nothing (pion's packetizer does so for an
// empty sample), so that a layer without a frame this time (one at a
// lower frame rate than the others) keeps its timestamps in step with
// the time that passed.
func (e *Engine) skipLayer(layer int, d time.Duration) {
	empty := media.Sample{Duration: d}
	if e.relayUp() != nil {
		_ = e.layers[layer].WriteSample(empty)
	}
	if layer == LayerF && len(e.connectedPeers()) > 0 {
		_ = e.tracks[Video].WriteSample(empty)
	}
}

// ssrcRIDs names this device's camera layers by SSRC, for
// sdesInterceptor, which sees streams by SSRC only. Entries live as long
// as their link.
type ssrcRIDs struct {
	mu  sync.Mutex
	rid map[uint32]string
}

func (s *ssrcRIDs) put(ssrc uint32, rid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rid == nil {
		s.rid = make(map[uint32]string)
	}
	s.rid[ssrc] = rid
}

func (s *ssrcRIDs) get(ssrc uint32) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rid, ok := s.rid[ssrc]
	return rid, ok
}

func (s *ssrcRIDs) forget(ssrcs []uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ssrc := range ssrcs {
		delete(s.rid, ssrc)
	}
}

// sdesFactory makes sdesInterceptors.
type sdesFactory struct{ rids *ssrcRIDs }

func (f sdesFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &sdesInterceptor{rids: f.rids}, nil
}

// sdesInterceptor writes the mid (pv) and the RID of a camera layer into
// every packet of that layer on the relay link (RFC 8843's sdes:mid,
// RFC 8852's sdes:rtp-stream-id). The offer lists no SSRC for simulcast
// encodings, so these are how the relay tells the layers apart, as
// browsers' packets let it; pion's sender does not write them itself.
type sdesInterceptor struct {
	interceptor.NoOp
	rids *ssrcRIDs
}

func (si *sdesInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(strings.ToLower(info.MimeType), "video/") {
		return w
	}
	rid, ok := si.rids.get(info.SSRC)
	if !ok {
		return w
	}
	var midID, ridID int
	for _, x := range info.RTPHeaderExtensions {
		switch x.URI {
		case sdp.SDESMidURI:
			midID = x.ID
		case sdp.SDESRTPStreamIDURI:
			ridID = x.ID
		}
	}
	if midID == 0 || ridID == 0 {
		return w
	}
	mid, r := []byte(midPubVideo), []byte(rid)
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		_ = h.SetExtension(uint8(midID), mid) //nolint:gosec // extension IDs are 1..14
		_ = h.SetExtension(uint8(ridID), r)   //nolint:gosec // extension IDs are 1..14
		return w.Write(h, payload, a)
	})
}
