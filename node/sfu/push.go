package sfu

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
)

// pushLink is the relay's connection to one peer relay for one meeting,
// which the relay offers: sendonly, a track for each source of the
// relay's own sessions (localSources) and a data channel for their
// opaque messages. It re-offers on the same connection when those
// sources change, so the two relays of a pair never offer on one
// connection at once. Nothing that came from a peer relay goes on it.
type pushLink struct {
	c    *cascade
	peer string
	m    *meeting
	id   uint64

	// sending: media go. Only once the data channel is open, so that the
	// frame signatures covering every frame the peer gets go too; and no
	// more once the link closes or the relay drains, while the channel
	// stays open a while for the signatures of what went.
	sending atomic.Bool

	mu        sync.Mutex
	pc        *webrtc.PeerConnection
	dc        *webrtc.DataChannel
	tracks    map[*source]*pushTrack
	busy      bool // a step (offer) or an answer is under way
	offered   bool // an offer waits for its answer
	offeredAt time.Time
	sentGen   uint64 // the meeting's pubGen the last offer carried
	closed    bool
}

// pushTrack carries one source of the relay's own to a peer relay, as it
// came: the publisher's sequence numbers, timestamps and payload, the
// audio level under the link's extension ID.
type pushTrack struct {
	link    *pushLink
	src     *source
	track   *webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	levelID atomic.Uint32
	// Used by the source's reader only.
	exts  [2]rtp.Extension
	level [1]byte
}

func newPushLink(c *cascade, peer string, m *meeting) *pushLink {
	return &pushLink{c: c, peer: peer, m: m, id: newLinkID(), tracks: map[*source]*pushTrack{}}
}

// claimStep reports whether the link should offer now — it never has,
// or the relay's own sources changed since its last offer was answered —
// and if so marks it busy. cascade.mu.
func (l *pushLink) claimStep() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.busy || l.offered || (l.pc != nil && l.m.pubGen.Load() == l.sentGen) {
		return false
	}
	l.busy = true
	return true
}

// stale reports an offer unanswered for answerTimeout.
func (l *pushLink) stale(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.offered && !l.busy && now.Sub(l.offeredAt) > answerTimeout
}

// takeAnswer reports whether the link waits for an answer, and if so
// marks it busy applying one.
func (l *pushLink) takeAnswer() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.busy || !l.offered {
		return false
	}
	l.busy = true
	return true
}

// step makes or renews the offer, on a relay goroutine.
func (l *pushLink) step() {
	err := l.offer()
	l.mu.Lock()
	l.busy = false
	l.mu.Unlock()
	if err != nil && !errors.Is(err, errLinkClosed) {
		l.c.dropPush(l, err.Error())
	}
}

// offer brings the link's tracks in line with the relay's own sources
// and sends the peer an offer.
func (l *pushLink) offer() error {
	if l.pc == nil {
		if err := l.open(); err != nil {
			return err
		}
	}
	gen := l.m.pubGen.Load()
	if err := l.sync(l.m.localSources(maxBridgeTracks)); err != nil {
		return err
	}
	if n := len(l.pc.GetTransceivers()); n > maxBridgeMLines {
		return fmt.Errorf("%d m-lines, more than %d: the link is made anew", n, maxBridgeMLines)
	}
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	if err := l.c.r.waitGathered(gathered); err != nil {
		return err
	}
	sdp := l.pc.LocalDescription().SDP
	if len(sdp) > cascadev1.MaxSDPSize {
		return fmt.Errorf("offer of %d bytes, more than %d", len(sdp), cascadev1.MaxSDPSize)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errLinkClosed
	}
	l.offered, l.offeredAt, l.sentGen = true, l.c.r.cfg.Now(), gen
	l.mu.Unlock()
	msg := peerMsg{kind: peerOffer, meeting: l.m.id, link: l.id, sdp: sdp}.encode()
	if !l.c.peers.Send(l.peer, msg) {
		l.c.r.log.Debugf("meeting %x: offer to %s not queued; it times out", l.m.id, short(l.peer))
	}
	return nil
}

// open makes the link's connection and data channel.
func (l *pushLink) open() error {
	r := l.c.r
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("push link: %w", err)
	}
	r.bwes.Take(pc.ID())
	if !r.trackPC(pc) {
		_ = pc.Close()
		return errLinkClosed
	}
	ordered := true
	dc, err := pc.CreateDataChannel(bridgeDataLabel, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		r.closeLinkPC(pc)
		return fmt.Errorf("push link data channel: %w", err)
	}
	dc.OnOpen(func() {
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if !closed {
			l.sending.Store(true)
			r.log.Infof("meeting %x: push link to %s up", l.m.id, short(l.peer))
		}
	})
	dc.OnClose(func() { l.sending.Store(false) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			l.c.dropPush(l, "connection "+s.String())
		}
	})
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		r.closeLinkPC(pc)
		return errLinkClosed
	}
	l.pc, l.dc = pc, dc
	l.mu.Unlock()
	return nil
}

// sync removes the tracks of sources no longer wanted and adds tracks
// for the new ones.
func (l *pushLink) sync(want []*source) error {
	keep := make(map[*source]bool, len(want))
	for _, src := range want {
		keep[src] = true
	}
	l.mu.Lock()
	var gone []*pushTrack
	for src, pt := range l.tracks {
		if !keep[src] {
			delete(l.tracks, src)
			gone = append(gone, pt)
		}
	}
	have := make(map[*source]bool, len(l.tracks))
	for src := range l.tracks {
		have[src] = true
	}
	l.mu.Unlock()
	for _, pt := range gone {
		pt.src.removePush(pt)
		if err := l.pc.RemoveTrack(pt.sender); err != nil {
			return fmt.Errorf("remove %s of %s: %w", pt.track.ID(), pt.src.owner.name, err)
		}
	}
	for _, src := range want {
		if !have[src] {
			if err := l.addTrack(src); err != nil {
				return err
			}
		}
	}
	return nil
}

// addTrack adds a sendonly track for src, labelled with its member and
// its kind (bridgeLabel), and starts reading the peer's RTCP on it.
func (l *pushLink) addTrack(src *source) error {
	if src.owner.remote != nil {
		return fmt.Errorf("a source of a peer relay's member is never pushed")
	}
	capability := VP8Capability
	if src.kind == kindAudio {
		capability = OpusCapability
	}
	track, err := webrtc.NewTrackLocalStaticRTP(capability, bridgeLabel(src.kind, src.rid), src.owner.name)
	if err != nil {
		return fmt.Errorf("push track: %w", err)
	}
	tr, err := l.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("push track: %w", err)
	}
	pt := &pushTrack{link: l, src: src, track: track, sender: tr.Sender()}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errLinkClosed
	}
	l.tracks[src] = pt
	l.mu.Unlock()
	src.addPush(pt)
	l.c.r.spawn(pt.readRTCP)
	return nil
}

// apply takes the peer's answer.
func (l *pushLink) apply(sdp string) {
	err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	l.mu.Lock()
	tracks := make([]*pushTrack, 0, len(l.tracks))
	for _, pt := range l.tracks {
		tracks = append(tracks, pt)
	}
	l.offered, l.busy = false, false
	l.mu.Unlock()
	if err != nil {
		l.c.dropPush(l, fmt.Sprintf("answer refused: %v", err))
		return
	}
	for _, pt := range tracks {
		if pt.src.kind == kindAudio {
			pt.levelID.Store(uint32(extensionID(pt.sender.GetParameters().HeaderExtensions, AudioLevelURI)))
		}
	}
}

// sendOpaque sends a wrapped opaque message on the link's data channel,
// unless it is not open or has maxBuffered unsent. A closed link's
// channel takes them until its connection closes (drainDelay).
func (l *pushLink) sendOpaque(wrapped []byte) bool {
	l.mu.Lock()
	dc := l.dc
	l.mu.Unlock()
	return dc != nil && dc.ReadyState() == webrtc.DataChannelStateOpen && dc.BufferedAmount() <= maxBuffered && dc.Send(wrapped) == nil
}

// stopMedia stops the link's media at once; its data channel goes on.
func (l *pushLink) stopMedia() { l.sending.Store(false) }

// closer returns what closes the link, to be run outside the cascade's
// lock.
func (l *pushLink) closer(why string) func() { return func() { l.close(why) } }

// close stops the link: its media stop and its tracks leave their
// sources at once; its connection closes drainDelay later, its data
// channel passing on the signatures of the last frames sent meanwhile.
// It is idempotent.
func (l *pushLink) close(why string) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	pc, tracks := l.pc, l.tracks
	l.tracks = map[*source]*pushTrack{}
	l.mu.Unlock()
	l.sending.Store(false)
	for src, pt := range tracks {
		src.removePush(pt)
	}
	if pc != nil {
		l.c.r.closeLinkPCLater(pc)
		l.c.r.log.Infof("meeting %x: push link to %s closed: %s", l.m.id, short(l.peer), why)
	}
}

// forward sends one packet of the track's source to the peer relay
// while the link sends media. It runs on the source's reader.
func (pt *pushTrack) forward(in *inbound) {
	if !pt.link.sending.Load() {
		return
	}
	out := rtp.Packet{Header: in.p.Header, Payload: in.p.Payload}
	h := &out.Header
	// The publisher's extensions carry its connection's IDs and transport
	// numbers; only the audio level goes on, under the link's ID.
	h.Extension, h.ExtensionProfile, h.Extensions = false, 0, pt.exts[:0]
	if in.hasLevel {
		if id := uint8(pt.levelID.Load()); id != 0 {
			pt.level[0] = in.level
			_ = h.SetExtension(id, pt.level[:])
		}
	}
	if pt.track.WriteRTP(&out) == nil {
		pt.link.c.r.stats.bridgedPackets.Add(1)
	}
}

// readRTCP reads the peer relay's RTCP on the track until it stops:
// reading lets pion answer NACKs, and a PLI or FIR — a subscriber of the
// peer asking — goes on to the publisher, spaced as every request for
// the source is (pliInterval).
func (pt *pushTrack) readRTCP() {
	st := &pt.link.c.r.stats
	for {
		pkts, _, err := pt.sender.ReadRTCP()
		if err != nil {
			return
		}
		if pt.src.kind == kindAudio || !wantsKeyframe(pkts) {
			continue
		}
		if pt.src.requestKeyframe() {
			st.pliForwarded.Add(1)
		} else {
			st.pliSuppressed.Add(1)
		}
	}
}
