package call

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/parleynet/parley/client/framesig"
	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/ids"
)

// How many packets the sample builders hold while waiting for a frame's
// missing packets: a VP8 key frame of a few dozen packets, and a few
// Opus packets; and for how long at most, by RTP time: long enough for
// a NACK and its retransmission on a slow path, short enough that a frame
// lost for good stalls the picture only briefly before the receiver asks
// for a key frame (at 1 Mbit/s, 512 packets are five seconds).
const (
	maxLateVideo      = 512
	maxLateAudio      = 64
	maxLateVideoDelay = 500 * time.Millisecond
	maxLateAudioDelay = 200 * time.Millisecond
)

// trackSink serialises a remote track's sink between the track's reader
// and the test hook.
type trackSink struct {
	mu   sync.Mutex
	sink Sink
	buf  []byte // decryption buffer
}

// receiveTrack reads one remote track until its connection closes: RTP
// packets are reassembled into frames, each frame decrypted and, if it
// authenticates under the sending member's key, handed to the sink. It
// runs on pion's OnTrack goroutine, which the engine waits for.
func (e *Engine) receiveTrack(p *peer, c *conn, t *webrtc.TrackRemote) {
	if !e.tryAdd() {
		return
	}
	defer e.wg.Done()
	kind, sb, ok := NewFrameBuilder(t.Codec())
	if !ok {
		e.log.Warnf("session %s: ignoring %s track", c.session, t.Codec().MimeType)
		return
	}
	if kind == Video && t.ID() == Screen.String() {
		kind = Screen
	}
	sink, err := e.cfg.Sinks(p.ident, kind)
	if err != nil || sink == nil {
		e.log.Errorf("sink for %v of %s: %v", kind, p.id, err)
		sink = discard{}
	}
	ts := &trackSink{sink: sink}
	p.setSink(kind, ts)
	defer func() {
		p.clearSink(kind, ts)
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if err := sink.Close(); err != nil {
			e.log.Warnf("close sink for %v of %s: %v", kind, p.id, err)
		}
	}()
	var pli pliLimiter
	if kind.IsVideo() {
		e.askKeyframe(c, t.SSRC(), &pli)
	}
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			if kind.IsVideo() && s.PrevDroppedPackets > 0 {
				e.askKeyframe(c, t.SSRC(), &pli)
			}
			e.receiveFrame(p, kind, s.Data, s.PacketTimestamp, ts, nil)
		}
	}
}

// NewFrameBuilder returns the kind of a remote track with codec c and a
// sample builder that reassembles its RTP packets into frames (VP8 or
// Opus depacketizer, holding maxLateVideo or maxLateAudio packets); ok is
// false for any other codec.
func NewFrameBuilder(c webrtc.RTPCodecParameters) (kind MediaKind, sb *samplebuilder.SampleBuilder, ok bool) {
	switch {
	case strings.EqualFold(c.MimeType, webrtc.MimeTypeVP8):
		return Video, samplebuilder.New(maxLateVideo, &codecs.VP8Packet{}, c.ClockRate, samplebuilder.WithMaxTimeDelay(maxLateVideoDelay)), true
	case strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus):
		return Audio, samplebuilder.New(maxLateAudio, &codecs.OpusPacket{}, c.ClockRate, samplebuilder.WithMaxTimeDelay(maxLateAudioDelay)), true
	}
	return 0, nil, false
}

func (p *peer) setSink(kind MediaKind, ts *trackSink) {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	p.sinks[kind] = ts
}

func (p *peer) clearSink(kind MediaKind, ts *trackSink) {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	if p.sinks[kind] == ts {
		delete(p.sinks, kind)
	}
}

// receiveFrame counts, checks, decrypts and delivers one reassembled
// frame from p. A frame that fails is counted by reason and dropped.
// A frame that came through the relay must also be covered by its
// sender's frame signatures, which sigs (the relay link's verifier; nil
// on the mesh) follows: one under a KID whose frames were cut is dropped.
func (e *Engine) receiveFrame(p *peer, kind MediaKind, data []byte, ts uint32, out *trackSink, sigs *framesig.Verifier) {
	p.stats.framesRecv.Add(1)
	p.stats.bytesRecv.Add(uint64(len(data)))
	if tap := e.rxTap.Load(); tap != nil {
		data = (*tap)(p.id, kind, data)
	}
	codec := kind.codec()
	v := e.view.Load()
	// Refuse another member's KID before decrypting, so that one member
	// cannot move another's replay window at this receiver.
	if pre := codec.PrefixLen(data); len(data) > pre {
		if h, _, err := sframe.ParseHeader(data[pre:]); err == nil {
			if err := e.expectKID(v, p.id, h.KID); err != nil {
				p.stats.reject(err)
				return
			}
		}
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	plain, err := e.keyring.Decrypt(out.buf[:0], codec, data)
	if err != nil {
		if errors.Is(err, sframe.ErrNoKey) && fromBeforeJoin(v, codec, data) {
			p.stats.beforeJoin.Add(1)
			return
		}
		p.stats.reject(err)
		return
	}
	out.buf = plain
	// The sender kept codec.PrefixLen(frame) bytes in the clear, and the
	// decrypted frame is that frame: so this is where its header is, also
	// for short frames the check above could not place.
	h, _, err := sframe.ParseHeader(data[codec.PrefixLen(plain):])
	if err == nil {
		err = e.expectKID(v, p.id, h.KID)
	}
	if err != nil {
		p.stats.reject(err)
		return
	}
	r := v.forKID(h.KID)
	if r == nil {
		// SetEpoch installed the keys between loading v and decrypting.
		if v = e.view.Load(); v.forKID(h.KID) == nil {
			p.stats.reject(fmt.Errorf("%w: %w: KID %d of no known epoch", ErrWrongSender, sframe.ErrUnknownKID, h.KID))
			return
		}
		r = v.forKID(h.KID)
	}
	f := Frame{From: p.ident, Kind: kind, Epoch: r.number, KID: h.KID, Counter: h.CTR, Timestamp: ts, Data: plain, Sealed: data}
	if sigs != nil {
		switch sigs.Frame(r.number, h.KID, h.CTR, data) {
		case framesig.Drop:
			p.stats.reject(unsignedErr(sigs, r.number, h.KID))
			return
		case framesig.Hold:
			p.hold(sigs, out, f)
			return
		}
	}
	e.deliver(p, out, f)
}

// deliver hands an authenticated frame to its sink; out.mu is held.
func (e *Engine) deliver(p *peer, out *trackSink, f Frame) {
	p.stats.decrypted.Add(1)
	p.stats.recvEpoch.Store(f.Epoch)
	if err := out.sink.WriteFrame(f); err != nil {
		e.log.Warnf("sink for %v of %s: %v", f.Kind, p.id, err)
	}
}

// unsignedErr is why a relayed frame under (epoch, kid) is not played.
func unsignedErr(sigs *framesig.Verifier, epoch, kid uint64) error {
	reason, _ := sigs.Cut(epoch, kid)
	if reason == nil {
		reason = errors.New("no valid batch covered it in time")
	}
	return fmt.Errorf("%w: %w", ErrUnsigned, reason)
}

// expectKID checks that kid is the KID member id sends under in the epoch
// it names. A KID of an epoch not held passes: the keyring refuses it.
func (e *Engine) expectKID(v *rosterView, id ids.DeviceRef, kid uint64) error {
	r := v.forKID(kid)
	if r == nil {
		return nil
	}
	if _, idx, ok := r.lookup(id); !ok || kidOf(idx, r.number) != kid {
		return fmt.Errorf("%w: %w: KID %d on the connection with %s in epoch %d", ErrWrongSender, sframe.ErrUnknownKID, kid, id, r.number)
	}
	return nil
}
