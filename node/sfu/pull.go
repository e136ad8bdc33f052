package sfu

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/parleynet/parley/internal/ids"
)

// pullLink is a peer relay's push link to this relay for one meeting,
// answered here: each track on it is a source of the meeting, published
// by a remote member — a session-shaped member with no slots, named by
// the track's stream ID — and each message on its data channel goes to
// the relay's own sessions only. Nothing on it goes on to another link.
type pullLink struct {
	c      *cascade
	peer   string
	m      *meeting
	id     uint64
	opaque *rate.Limiter
	dc     atomic.Pointer[webrtc.DataChannel]

	mu      sync.Mutex
	pc      *webrtc.PeerConnection
	pending string // the latest offer not yet answered
	busy    bool   // run is answering
	closed  bool
	tracks  int // sources on the link, at most maxBridgeTracks

	// meeting.mu
	members map[string]*session // remote members by name
	left    bool                // its members left the meeting: no more join
}

func newPullLink(c *cascade, peer string, m *meeting, id uint64) *pullLink {
	return &pullLink{
		c: c, peer: peer, m: m, id: id,
		opaque:  rate.NewLimiter(bridgeOpaqueRate, bridgeOpaqueBurst),
		members: map[string]*session{},
	}
}

// queue keeps offer as the next to answer; it reports whether run must
// be started (it is not running). cascade.mu.
func (l *pullLink) queue(offer string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.pending = offer
	if l.busy {
		return false
	}
	l.busy = true
	return true
}

// run answers the queued offers, the latest first, until none is left.
func (l *pullLink) run() {
	for {
		l.mu.Lock()
		offer := l.pending
		l.pending = ""
		if offer == "" || l.closed {
			l.busy = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		if err := l.answer(offer); err != nil {
			l.mu.Lock()
			l.busy = false
			l.mu.Unlock()
			if !errors.Is(err, errLinkClosed) {
				l.c.dropPull(l, err.Error())
			}
			return
		}
	}
}

// answer applies an offer and sends the peer the answer. A renegotiation
// that ends a track (its m-line inactive) stops its receiver, which ends
// the source.
func (l *pullLink) answer(offer string) error {
	if err := checkBridgeOffer(offer); err != nil {
		return err
	}
	if l.pc == nil {
		if err := l.open(); err != nil {
			return err
		}
	}
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("%w: offer refused: %v", ErrBadPeerMessage, err)
	}
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if err := l.c.r.waitGathered(gathered); err != nil {
		return err
	}
	msg := peerMsg{kind: peerAnswer, meeting: l.m.id, link: l.id, sdp: l.pc.LocalDescription().SDP}.encode()
	if !l.c.peers.Send(l.peer, msg) {
		l.c.r.log.Debugf("meeting %x: answer to %s not queued", l.m.id, short(l.peer))
	}
	return nil
}

// open makes the link's connection, which takes the peer's tracks and
// data channel.
func (l *pullLink) open() error {
	r := l.c.r
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("pull link: %w", err)
	}
	r.bwes.Take(pc.ID())
	if !r.trackPC(pc) {
		_ = pc.Close()
		return errLinkClosed
	}
	pc.OnTrack(l.onTrack)
	pc.OnDataChannel(l.onDataChannel)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			r.log.Infof("meeting %x: pull link from %s up", l.m.id, short(l.peer))
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			l.c.dropPull(l, "connection "+s.String())
		}
	})
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		r.closeLinkPC(pc)
		return errLinkClosed
	}
	l.pc = pc
	l.mu.Unlock()
	return nil
}

// onTrack takes one of the peer's tracks as a source of the member its
// stream ID names; a track with another label, or past maxBridgeTracks,
// is left unread.
func (l *pullLink) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	r := l.c.r
	ref, okName := ids.ParseDeviceRef(t.StreamID())
	kind, rid, okLabel := parseBridgeLabel(t.ID(), t.Kind())
	if !okName || !okLabel {
		r.log.Debugf("meeting %x: ignoring a track labelled %.70q %.20q from %s", l.m.id, t.StreamID(), t.ID(), short(l.peer))
		return
	}
	l.mu.Lock()
	if l.closed || l.tracks >= maxBridgeTracks {
		l.mu.Unlock()
		return
	}
	l.tracks++
	l.mu.Unlock()
	src := &source{relay: r, track: t, ssrc: uint32(t.SSRC()), rid: rid, kind: kind}
	if kind == kindAudio {
		src.levelID = extensionID(recv.GetParameters().HeaderExtensions, AudioLevelURI)
	}
	if !l.m.addBridged(l, ref, src) {
		l.trackEnded()
		return
	}
	if !r.spawn(func() {
		src.run()
		l.m.removeBridged(src)
		l.trackEnded()
	}) {
		l.m.removeBridged(src)
		l.trackEnded()
	}
}

func (l *pullLink) trackEnded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tracks--
}

// onDataChannel accepts the link's one parley-cascade channel.
func (l *pullLink) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Label() != bridgeDataLabel || !l.dc.CompareAndSwap(nil, dc) {
		_ = dc.Close()
		return
	}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { l.onMessage(msg.Data) })
}

// onMessage passes an opaque message of a remote member to the relay's
// own sessions, but one of the member's own name; anything else, and
// anything past the link's rate, is dropped.
func (l *pullLink) onMessage(data []byte) {
	st := &l.c.r.stats
	member, msg, ok := unwrapBridged(data)
	if !ok || !l.opaque.AllowN(l.c.r.cfg.Now(), 1) {
		st.opaqueDropped.Add(1)
		return
	}
	l.m.deliverOpaque(member, msg)
}

// closer returns what closes the link, to be run outside the cascade's
// lock.
func (l *pullLink) closer(why string) func() { return func() { l.close(why) } }

// close ends the link: its members leave the meeting at once, their
// sources out of every slot; its connection closes drainDelay later, its
// data channel passing on the signatures of the last frames that came
// meanwhile. It is idempotent.
func (l *pullLink) close(why string) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	pc := l.pc
	l.mu.Unlock()
	l.m.dropLink(l)
	l.c.r.forgetIfEmpty(l.m)
	if pc != nil {
		l.c.r.closeLinkPCLater(pc)
		l.c.r.log.Infof("meeting %x: pull link from %s closed: %s", l.m.id, short(l.peer), why)
	}
}
