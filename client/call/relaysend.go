package call

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/bwe"
)

// AudioLeveler is an audio Source that knows how loud its last frame was,
// in -dBov (0 loudest, 127 silence) as RFC 6464 carries it. The relay
// picks the loudest members by it. A source without it is measured by
// opusLevel.
type AudioLeveler interface {
	AudioLevel() uint8
}

// Levels of RFC 6464, in -dBov.
const (
	levelSilence = 127
	// voiceLevel: a frame at least this loud sets the extension's voice
	// bit.
	voiceLevel = 50
)

// opusLevel guesses a frame's level from its size, for sources that
// cannot say (an Ogg file: the client does not decode Opus). Opus spends
// bits where there is sound: a frame of a few bytes is silence (DTX or
// comfort noise), and speech at 20 ms takes 40 bytes and more.
func opusLevel(frame []byte) uint8 {
	n := len(frame)
	switch {
	case n <= 8:
		return levelSilence
	case n >= 120:
		return 20
	}
	return uint8(127 - (n-8)*107/112) //nolint:gosec // 20..127
}

// emit writes a frame sealed under this device's key to its tracks and
// counts it: the mesh's track, which every connected peer's connection
// shares, and the relay link's, which is the same track but for a
// simulcast camera's layers (simulcast.go). layer is the frame's layer,
// LayerF for every frame that is not one: the mesh gets the full layer
// only. On the relay it also adds the frame to this device's running
// frame signatures (framesig), which go to the relay with the frames.
// Callers hold sendMu from the encryption on, so that frames reach the
// signer in counter order.
//
// The tracks are bound to the relay link as soon as its DTLS is up, before
// its data channel opens, so every frame is signed while there is a link
// at all; signatures wait for the channel (sendSignature).
func (e *Engine) emit(kind MediaKind, layer int, frame []byte, d time.Duration) {
	mesh, relay := e.tracks[kind], e.tracks[kind]
	if kind == Video && e.simulcast() {
		relay = e.layers[layer]
		if layer != LayerF {
			mesh = nil
		}
	}
	var list []*peer
	if mesh != nil {
		list = e.connectedPeers()
	}
	link, l := e.relayCur.Load(), e.relayUp()
	if len(list) == 0 && l == nil {
		return
	}
	// An error here names a connection that is closing; the others were
	// written.
	sample := media.Sample{Data: frame, Duration: d}
	if len(list) > 0 || (l != nil && relay == mesh) {
		_ = mesh.WriteSample(sample)
	}
	if l != nil && relay != mesh {
		_ = relay.WriteSample(sample)
	}
	for _, p := range list {
		p.stats.framesSent.Add(1)
		p.stats.bytesSent.Add(uint64(len(frame)))
	}
	if l != nil {
		e.relayStats.framesSent.Add(1)
		e.relayStats.bytesSent.Add(uint64(len(frame)))
		if relay != e.tracks[kind] {
			e.layerStats[layer].frames.Add(1)
			e.layerStats[layer].bytes.Add(uint64(len(frame)))
		}
	}
	if link == nil {
		return
	}
	codec := kind.codec()
	h, _, err := sframe.ParseHeader(frame[codec.PrefixLen(frame):])
	if err != nil {
		return
	}
	r := e.view.Load().forKID(h.KID)
	if r == nil {
		return
	}
	msg, err := e.signer.Add(r.number, h.KID, h.CTR, frame)
	if err != nil {
		e.log.Warnf("frame signature: %v", err)
		return
	}
	e.sendSignature(link, msg)
}

// flushSignatures signs the open batch, every tick, so that a quiet
// sender's last frames are covered too.
func (e *Engine) flushSignatures() {
	l := e.relayCur.Load()
	if l == nil {
		return
	}
	e.sendMu.Lock()
	msg, err := e.signer.Flush()
	e.sendMu.Unlock()
	if err != nil {
		e.log.Warnf("frame signature: %v", err)
		return
	}
	e.sendSignature(l, msg)
}

// sendSignature sends a signature message on the relay's data channel,
// which passes it to the members receiving this device's media; until the
// channel opens, up to maxQueuedSigs wait for it.
func (e *Engine) sendSignature(l *relayLink, msg []byte) {
	if msg == nil {
		return
	}
	msg = append([]byte{relayMsgOpaque}, msg...)
	l.sigMu.Lock()
	if !l.dcOpen.Load() {
		if len(l.queuedSigs) < maxQueuedSigs {
			l.queuedSigs = append(l.queuedSigs, msg)
		}
		l.sigMu.Unlock()
		return
	}
	l.sigMu.Unlock()
	e.sendOnLink(l, msg)
}

// maxQueuedSigs bounds the signature messages waiting for a link's data
// channel: ten seconds of batches.
const maxQueuedSigs = 40

// sendQueuedSignatures sends what waited for the data channel, which just
// opened.
func (e *Engine) sendQueuedSignatures(l *relayLink) {
	l.sigMu.Lock()
	q := l.queuedSigs
	l.queuedSigs = nil
	l.sigMu.Unlock()
	for _, msg := range q {
		e.sendOnLink(l, msg)
	}
}

func (e *Engine) sendOnLink(l *relayLink, msg []byte) {
	if err := l.dc.Send(msg); err != nil {
		e.log.Debugf("frame signature to the relay: %v", err)
		return
	}
	e.sigsSent.Add(1)
}

// newRelayAPI builds the pion API of the relay link: the mesh's codecs,
// interceptors and congestion control, plus the header extensions of the
// relay's wire contract: the audio level (RFC 6464), written on this
// device's audio by levelInterceptor, and mid and rid, written on the
// camera's simulcast layers by sdesInterceptor.
func newRelayAPI(se *webrtc.SettingEngine, reg *bwe.Registry, initial, maxRate int, level *atomic.Uint32, rids *ssrcRIDs) (*webrtc.API, error) {
	return buildAPI(se, reg, initial, maxRate, func(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
		if err := registerRelayExtensions(m, false); err != nil {
			return err
		}
		ir.Add(levelFactory{level: level})
		ir.Add(sdesFactory{rids: rids})
		return nil
	})
}

// headerExt is a header extension's URI and the media kind it is on.
type headerExt struct {
	uri  string
	kind webrtc.RTPCodecType
}

// relayExtensions are the header extensions of the relay's wire
// contract: the audio level (RFC 6464) on audio, mid on both kinds, rid
// on video.
var relayExtensions = []headerExt{
	{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
	{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
	{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
	{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
}

// registerRelayExtensions registers relayExtensions on m, and with
// repaired the repaired rid too (a browser sends its simulcast
// retransmissions under it).
func registerRelayExtensions(m *webrtc.MediaEngine, repaired bool) error {
	exts := relayExtensions
	if repaired {
		exts = append(slices.Clip(exts), headerExt{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo})
	}
	for _, x := range exts {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: x.uri}, x.kind); err != nil {
			return fmt.Errorf("%w: header extension %s: %v", ErrInvalidConfig, x.uri, err)
		}
	}
	return nil
}

// levelFactory makes levelInterceptors.
type levelFactory struct{ level *atomic.Uint32 }

func (f levelFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &levelInterceptor{level: f.level}, nil
}

// levelInterceptor writes the audio level of this device's latest audio
// frame (RFC 6464) into every audio packet it sends on the relay link.
// The level is the one thing about the audio the relay learns beyond its
// timing and size, and it is what lets the relay forward only the loudest
// members.
type levelInterceptor struct {
	interceptor.NoOp
	level *atomic.Uint32
}

func (li *levelInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(strings.ToLower(info.MimeType), "audio/") {
		return w
	}
	id := 0
	for _, x := range info.RTPHeaderExtensions {
		if x.URI == sdp.AudioLevelURI {
			id = x.ID
		}
	}
	if id == 0 {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		lvl := uint8(li.level.Load()) //nolint:gosec // ≤ 127
		ext, err := rtp.AudioLevelExtension{Level: lvl, Voice: lvl <= voiceLevel}.Marshal()
		if err == nil {
			_ = h.SetExtension(uint8(id), ext) //nolint:gosec // extension IDs are 1..14
		}
		return w.Write(h, payload, a)
	})
}
