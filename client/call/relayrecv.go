package call

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/ids"
)

// relayIdleFlush: a slot that gets no packet for this long gives up the
// frame its sample builder holds. The builder keeps a stream's last frame
// until the next packet shows where it ends, and a slot can pause for
// long — its member stopped speaking, or moved to another relay — while
// the frame's signature came with its batch and is kept only
// framesig.DefaultMissingAfter: held longer, the frame would get its
// sender cut.
const relayIdleFlush = 500 * time.Millisecond

// receiveRelayTrack reads one of the relay's slots until the link closes.
// A slot carries different members over time (the relay switches it at
// key frames), so nothing about the sender is taken from the slot or the
// relay: each frame names its sender by its SFrame KID, the keyring
// authenticates it under that member's key, and the member's signature
// over the frame's digest must follow (framesig). It runs on pion's
// OnTrack goroutine, which the engine waits for.
func (e *Engine) receiveRelayTrack(l *relayLink, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	if !e.tryAdd() {
		return
	}
	defer e.wg.Done()
	kind, sb, ok := NewFrameBuilder(t.Codec())
	if !ok {
		e.log.Warnf("relay: ignoring %s track", t.Codec().MimeType)
		return
	}
	if kind == Video && strings.HasPrefix(midOfReceiver(l.pc, r), "rs") {
		kind = Screen
	}
	var pli pliLimiter
	if kind.IsVideo() {
		e.askRelayKeyframe(l, t.SSRC(), &pli)
	}
	for {
		_ = t.SetReadDeadline(time.Now().Add(relayIdleFlush))
		pkt, _, err := t.ReadRTP()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			sb.Flush()
		case err != nil:
			return
		default:
			sb.Push(pkt)
		}
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			if kind.IsVideo() && s.PrevDroppedPackets > 0 {
				e.askRelayKeyframe(l, t.SSRC(), &pli)
			}
			e.receiveRelayFrame(l, kind, s.Data, s.PacketTimestamp)
		}
	}
}

// midOfReceiver returns the mid of the transceiver r belongs to.
func midOfReceiver(pc *webrtc.PeerConnection, r *webrtc.RTPReceiver) string {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == r {
			return tr.Mid()
		}
	}
	return ""
}

// askRelayKeyframe asks the relay for a key frame of a slot; the relay
// passes it to the slot's source, rate-limited.
func (e *Engine) askRelayKeyframe(l *relayLink, ssrc webrtc.SSRC, lim *pliLimiter) {
	if !lim.due() {
		return
	}
	if err := l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}}); err != nil {
		e.log.Debugf("PLI to the relay: %v", err)
	}
}

// receiveRelayFrame finds the member a relayed frame names by its KID and
// hands it to receiveFrame as that member's. A KID of no member this
// device receives from (its own, a stranger's, an epoch not held) is
// counted on the relay and dropped, and so is every frame before the
// link's data channel is open: its signatures could not be followed.
func (e *Engine) receiveRelayFrame(l *relayLink, kind MediaKind, data []byte, ts uint32) {
	if !l.dcOpen.Load() {
		e.relayStats.beforeJoin.Add(1)
		return
	}
	codec := kind.codec()
	pre := codec.PrefixLen(data)
	if len(data) <= pre {
		e.relayStats.framesRecv.Add(1)
		e.relayStats.reject(fmt.Errorf("%w: relayed frame of %d bytes", sframe.ErrMalformed, len(data)))
		return
	}
	h, _, err := sframe.ParseHeader(data[pre:])
	if err != nil {
		e.relayStats.framesRecv.Add(1)
		e.relayStats.reject(err)
		return
	}
	p := e.senderOf(h.KID)
	if p == nil {
		e.relayStats.framesRecv.Add(1)
		e.relayStats.reject(fmt.Errorf("%w: %w: relayed frame under KID %d of no member this device receives", ErrWrongSender, sframe.ErrUnknownKID, h.KID))
		return
	}
	e.receiveFrame(p, kind, data, ts, p.relaySink(e, kind), l.sigs)
}

// senderOf returns the peer that sends under kid in the epoch it names.
func (e *Engine) senderOf(kid uint64) *peer {
	r := e.view.Load().forKID(kid)
	if r == nil {
		return nil
	}
	idx := kid >> 8
	if idx >= uint64(len(r.members)) {
		return nil
	}
	index := e.peerIndex.Load()
	if index == nil {
		return nil
	}
	return (*index)[r.members[idx].id()]
}

// relaySink returns the sink of p's frames of kind that arrive through
// the relay, made on the first one.
func (p *peer) relaySink(e *Engine, kind MediaKind) *trackSink {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	if ts := p.relaySinks[kind]; ts != nil {
		return ts
	}
	sink, err := e.cfg.Sinks(p.ident, kind)
	if err != nil || sink == nil {
		e.log.Errorf("sink for %v of %s: %v", kind, p.id, err)
		sink = discard{}
	}
	ts := &trackSink{sink: sink}
	p.relaySinks[kind] = ts
	return ts
}

// closeRelaySinks closes p's relay sinks (the peer left, or the engine
// stops).
func (e *Engine) closeRelaySinks(p *peer) {
	p.sinkMu.Lock()
	sinks := p.relaySinks
	p.relaySinks = make(map[MediaKind]*trackSink)
	p.sinkMu.Unlock()
	for kind, ts := range sinks {
		ts.mu.Lock()
		if err := ts.sink.Close(); err != nil {
			e.log.Warnf("close sink for %v of %s: %v", kind, p.id, err)
		}
		ts.mu.Unlock()
	}
}

// relayMessage takes a message from the relay's data channel: the slot
// map (kept for Stats, never trusted) and other members' frame
// signatures. Anything else is ignored: the relay is not trusted.
func (e *Engine) relayMessage(l *relayLink, data []byte) {
	if len(data) == 0 {
		return
	}
	switch data[0] {
	case relayMsgSlots:
		s := string(data[1:])
		l.slots.Store(&s)
	case relayMsgOpaque:
		if err := l.sigs.Message(data[1:]); err != nil {
			e.log.Debugf("relay: frame signature refused: %v", err)
			return
		}
		if p := e.batchSender(data[1:]); p != nil {
			e.settleHeld(p)
		}
	}
}

// relayPrefs is the body of a prefs message.
type relayPrefs struct {
	Pin []string `json:"pin"`
}

// Pin asks the relay to give these members' videos the first of this
// device's video slots (last-N picks the rest by who spoke last).
func (e *Engine) Pin(members ...ids.DeviceRef) {
	list := make([]string, len(members))
	for i, m := range members {
		list[i] = m.String()
	}
	e.pins.Store(&list)
	if l := e.relayCur.Load(); l != nil {
		e.sendPrefs(l)
	}
}

// sendPrefs tells the relay this device's pinned members.
func (e *Engine) sendPrefs(l *relayLink) {
	pins := e.pins.Load()
	if pins == nil || !l.dcOpen.Load() {
		return
	}
	body, err := json.Marshal(relayPrefs{Pin: *pins})
	if err != nil {
		return
	}
	if err := l.dc.Send(append([]byte{relayMsgPrefs}, body...)); err != nil {
		e.log.Debugf("relay prefs: %v", err)
	}
}
