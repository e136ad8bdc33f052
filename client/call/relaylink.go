package call

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleynet/parley/client/framesig"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// MediaRelayDialer hands this device's complete WebRTC offer to a node's media
// relay and returns the relay's answer and the node that answered
// (client/mailbox's Client.RelayConnect with the meeting bound). skip names
// a node whose relay was just lost, to be tried last or not at all.
type MediaRelayDialer func(ctx context.Context, offer, skip string) (answer, node string, err error)

// Defaults and bounds of relay mode (PROTOCOL.md section 12).
const (
	// DefaultMeshLimit: rosters of up to this many members use the mesh;
	// larger ones the relay, when Config.MediaRelay is set.
	DefaultMeshLimit = 4
	// DefaultLastN: how many members' videos this device asks the relay
	// for; MaxLastN bounds it, as the relay does.
	DefaultLastN = 6
	MaxLastN     = 16
	// MaxRelayMembers bounds a roster carried by the relay.
	MaxRelayMembers = 200
	// relayAudioSlots: the loudest three members are heard.
	relayAudioSlots = 3
	// relayDataLabel is the data channel of the relay's wire contract.
	relayDataLabel = "parley-relay"
	// linkRetry: after a failed dial, the next one waits this long.
	linkRetry = time.Second
	// sigMissingAfter: a relayed frame not covered by its sender's
	// signature this long after it arrived holds the sender (framesig):
	// from then on its frames play only once verified. Batches go every
	// 250 ms; the rest is room for a slow data channel.
	sigMissingAfter = 1500 * time.Millisecond
	// relayDownLimit: a link down this long is replaced, on another node's
	// relay if there is one.
	relayDownLimit = 3 * time.Second
)

// Messages on the relay's data channel: a type byte, then the body.
const (
	relayMsgSlots  = 0x01 // relay → device: which member feeds which slot (advisory)
	relayMsgPrefs  = 0x02 // device → relay: pinned members
	relayMsgOpaque = 0x03 // device → relay → the other members: frame signatures
)

// Mids of the relay's wire contract: this device's tracks, then its
// receive slots.
const (
	midPubAudio  = "pa"
	midPubVideo  = "pv"
	midPubScreen = "ps"
)

// pubMid is the mid each of this device's tracks is published on.
var pubMid = map[MediaKind]string{Audio: midPubAudio, Video: midPubVideo, Screen: midPubScreen}

// relayLink is this device's one connection to a media relay. Fields
// without a comment are owned by Run's goroutine.
type relayLink struct {
	pc            *webrtc.PeerConnection
	dc            *webrtc.DataChannel
	node          string // the mailbox node whose relay answered
	bwe           cc.BandwidthEstimator
	started       time.Time
	everConnected bool
	downSince     time.Time
	connected     atomic.Bool // now; set by pion's callback
	closing       atomic.Bool
	dcOpen        atomic.Bool
	// sigs follows the frame signatures of the members whose frames come
	// through this link: each link has its own, so that batches lost
	// with a lost link never cut a member on the next one.
	sigs *framesig.Verifier
	// sigMu guards queuedSigs: this device's signature messages made
	// before the data channel opened, sent when it does.
	sigMu      sync.Mutex
	queuedSigs [][]byte
	slots      atomic.Pointer[string] // the relay's last slots message (advisory)
	// layerSSRCs are the camera layers' SSRCs on this link, set before
	// the offer.
	layerSSRCs []uint32
}

// onRelay reports whether the current roster is carried by the relay.
func (e *Engine) onRelay() bool {
	v := e.view.Load()
	return e.cfg.MediaRelay != nil && v != nil && len(v.cur.members) > e.cfg.MeshLimit
}

// steerTransport runs on every reconcile: a roster above the mesh limit
// dials the relay (the mesh stays until the link is up, so media never
// stop); one within it drops the relay and connects the mesh again.
func (e *Engine) steerTransport() {
	if e.onRelay() {
		if e.relay == nil && !e.relayDialing && time.Now().After(e.relayRetryAt) {
			e.dialRelay(e.relaySkip)
		}
		return
	}
	if e.relay != nil {
		e.log.Infof("roster within the mesh limit (%d); leaving the relay", e.cfg.MeshLimit)
		e.closeRelay()
		for _, p := range e.peers {
			if p.offerer && p.conn == nil {
				e.startOffer(p)
			}
		}
	}
}

// dialRelay builds a link, gathers its candidates and hands its offer to
// a relay on a goroutine of its own (the node gathers before answering);
// the loop takes the result as an evRelayDialed event.
func (e *Engine) dialRelay(skip string) {
	e.relayDialing = true
	ctx := e.sendCtx
	e.wg.Go(func() {
		link, err := e.connectRelay(ctx, skip)
		e.events.push(event{kind: evRelayDialed, link: link, err: err})
	})
}

// connectRelay makes the link and completes its offer/answer.
func (e *Engine) connectRelay(ctx context.Context, skip string) (*relayLink, error) {
	pc, err := e.relayAPI.NewPeerConnection(webrtc.Configuration{
		ICEServers:         e.iceServers(),
		ICETransportPolicy: e.icePolicy(),
		Certificates:       []webrtc.Certificate{e.cert},
		BundlePolicy:       webrtc.BundlePolicyMaxBundle,
	})
	if err != nil {
		return nil, fmt.Errorf("relay connection: %w", err)
	}
	l := &relayLink{pc: pc, started: time.Now(), bwe: e.bwes.Take(pc.ID())}
	fail := func(err error) (*relayLink, error) {
		l.closing.Store(true)
		_ = pc.Close()
		e.layerSSRCs.forget(l.layerSSRCs)
		return nil, err
	}
	if l.sigs, err = framesig.NewVerifier(e.cfg.ChainID, e.cfg.MeetingID, e.deviceKeyOf, framesig.WithMissingAfter(sigMissingAfter)); err != nil {
		return fail(fmt.Errorf("%w: frame signatures: %w", ErrInvalidConfig, err))
	}
	if err := e.addRelayTransceivers(l); err != nil {
		return fail(err)
	}
	ordered := true
	dc, err := pc.CreateDataChannel(relayDataLabel, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return fail(fmt.Errorf("relay data channel: %w", err))
	}
	l.dc = dc
	dc.OnOpen(func() {
		l.sigMu.Lock()
		l.dcOpen.Store(true)
		l.sigMu.Unlock()
		e.sendQueuedSignatures(l)
		e.sendPrefs(l)
		if !l.closing.Load() {
			e.events.push(event{kind: evRelayReady, link: l})
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) { e.relayMessage(l, m.Data) })
	// The relay closes the channel when it ends this device's session (it
	// is shutting down, or dropped the device). The connection may still
	// read connected for ICEDisconnectedTimeout and relayDownLimit more;
	// the link is lost now.
	dc.OnClose(func() {
		if !l.closing.Load() {
			e.events.push(event{kind: evRelayState, link: l, state: webrtc.PeerConnectionStateClosed})
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		l.connected.Store(s == webrtc.PeerConnectionStateConnected)
		if !l.closing.Load() {
			e.events.push(event{kind: evRelayState, link: l, state: s})
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { e.receiveRelayTrack(l, t, r) })
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(fmt.Errorf("relay offer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(fmt.Errorf("relay offer: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	answer, node, err := e.cfg.MediaRelay(ctx, pc.LocalDescription().SDP, skip)
	if err != nil {
		return fail(err)
	}
	l.node = node
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fail(fmt.Errorf("the relay's answer from %s: %w", node, err))
	}
	return l, nil
}

// addRelayTransceivers lays out the offer as the relay's wire contract
// says: this device's three tracks, sendonly, on mids pa, pv (one stream,
// or a simulcast camera's three layers) and ps, then recvonly slots
// ra0..ra2 (the loudest three), rv0..rv{LastN-1} and rs0.
func (e *Engine) addRelayTransceivers(l *relayLink) error {
	for _, kind := range []MediaKind{Audio, Video, Screen} {
		if kind == Video && e.simulcast() {
			if err := e.addLayerTransceiver(l); err != nil {
				return err
			}
			continue
		}
		tr, err := l.pc.AddTransceiverFromTrack(e.tracks[kind], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("relay %v track: %w", kind, err)
		}
		if err := tr.SetMid(pubMid[kind]); err != nil {
			return fmt.Errorf("relay %v track: %w", kind, err)
		}
		e.wg.Go(func() { e.readRTCP(&e.relayStats, kind, tr.Sender(), "") })
	}
	recv := func(kind webrtc.RTPCodecType, mid string) error {
		tr, err := l.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return fmt.Errorf("relay slot %s: %w", mid, err)
		}
		return tr.SetMid(mid)
	}
	for i := range relayAudioSlots {
		if err := recv(webrtc.RTPCodecTypeAudio, "ra"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	for i := range e.cfg.LastN {
		if err := recv(webrtc.RTPCodecTypeVideo, "rv"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	return recv(webrtc.RTPCodecTypeVideo, "rs0")
}

// relayDialed takes a dial's result: the link becomes the engine's if the
// roster still wants the relay.
func (e *Engine) relayDialed(l *relayLink, err error) {
	e.relayDialing = false
	if err != nil {
		e.relayRetryAt = time.Now().Add(linkRetry)
		e.relaySkip = ""
		e.log.Warnf("relay: %v; trying again in %v", err, linkRetry)
		return
	}
	if !e.onRelay() || e.relay != nil {
		e.dropRelay(l)
		return
	}
	e.relay = l
	e.relayCur.Store(l)
	e.log.Infof("relay of %s: offer answered", l.node)
	if l.dcOpen.Load() {
		e.relayReady(l) // it opened before this event was taken
	}
}

// relayState reacts to the link's state: once it is up the mesh
// connections close (make before break); a failed or closed link is
// replaced at once, on another node's relay.
func (e *Engine) linkState(l *relayLink, s webrtc.PeerConnectionState) {
	if e.relay != l {
		return
	}
	switch s {
	case webrtc.PeerConnectionStateConnected:
		l.everConnected, l.downSince = true, time.Time{}
		e.log.Infof("relay of %s connected", l.node)
	case webrtc.PeerConnectionStateDisconnected:
		if l.downSince.IsZero() {
			l.downSince = time.Now()
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		e.replaceRelay(fmt.Sprintf("link %s", s))
	}
}

// relayReady closes the mesh once the link carries media and their
// signatures (make before break).
func (e *Engine) relayReady(l *relayLink) {
	if e.relay != l {
		return
	}
	e.log.Infof("relay of %s ready; closing the mesh", l.node)
	for _, p := range e.peers {
		e.closeConn(p, true)
	}
}

// checkRelay, every tick, replaces a link that did not come up within
// ReconnectTimeout or has been down for relayDownLimit.
func (e *Engine) checkRelay(now time.Time) {
	l := e.relay
	switch {
	case l == nil:
		e.steerTransport()
	case !l.everConnected && now.Sub(l.started) > e.cfg.ReconnectTimeout:
		e.replaceRelay(fmt.Sprintf("not up after %v", e.cfg.ReconnectTimeout))
	case !l.downSince.IsZero() && now.Sub(l.downSince) > relayDownLimit:
		e.replaceRelay(fmt.Sprintf("down for %v", relayDownLimit))
	}
}

// replaceRelay drops the link and dials again, another node's relay
// first.
func (e *Engine) replaceRelay(why string) {
	l := e.relay
	e.log.Warnf("relay of %s: %s; moving to another relay", l.node, why)
	e.relayStats.reconnects.Add(1)
	e.relaySkip = l.node
	e.closeRelay()
	// Until a relay carries the call again, a roster a mesh carries falls
	// back to the mesh (startOffer refuses a larger one).
	for _, p := range e.peers {
		if p.offerer && p.conn == nil && p.retryAt.IsZero() {
			p.retryAt = time.Now().Add(failRetry)
		}
	}
	e.steerTransport()
}

// closeRelay drops the engine's link.
func (e *Engine) closeRelay() {
	if e.relay == nil {
		return
	}
	e.dropRelay(e.relay)
	e.relay = nil
	e.relayCur.Store(nil)
}

// dropRelay closes a link on a goroutine the engine waits for.
func (e *Engine) dropRelay(l *relayLink) {
	l.closing.Store(true)
	l.connected.Store(false)
	e.layerSSRCs.forget(l.layerSSRCs)
	e.wg.Go(func() {
		if err := l.pc.GracefulClose(); err != nil {
			e.log.Debugf("close relay link: %v", err)
		}
	})
}

// relayUp returns the link if it carries media now: connected, with its
// data channel open, since frames sent before their signatures can go
// would be cut by every receiver.
func (e *Engine) relayUp() *relayLink {
	if l := e.relayCur.Load(); l != nil && l.connected.Load() && l.dcOpen.Load() {
		return l
	}
	return nil
}

// sweepSignatures returns the members the link's verifier cut since the
// last sweep.
func (l *relayLink) sweepSignatures() []framesig.Cut {
	if l == nil {
		return nil
	}
	return l.sigs.Sweep()
}

// RelayStats is what the engine knows about its link to a media relay.
type RelayStats struct {
	// Node is the mailbox node whose relay the link is with; "" without
	// a link.
	Node  string
	State string // pion's connection state, "" without a link
	// Reconnects counts links replaced (lost, or never up).
	Reconnects uint64
	// FramesSent and BytesSent: frames written while the link was up.
	FramesSent, BytesSent uint64
	// Layers: of those, the frames of each layer of a simulcast camera
	// (SimulcastSource), LayerQ, LayerH, LayerF; zero for a camera sent
	// as one stream.
	Layers [NumLayers]LayerStats
	// Unattributed counts relayed frames that named no member this
	// device receives from (their KID), by reason; the frames that did
	// are counted in each member's PeerStats.
	Unattributed Rejections
	// SignaturesSent counts this device's frame-signature messages.
	SignaturesSent uint64
	// Signatures is the verifier's account of everyone else's.
	Signatures framesig.Stats
	// Cuts are the latest senders whose relayed frames this device cut,
	// with the reason (at most maxCutsKept, newest last).
	Cuts []string
	// Slots is the relay's last word on which member feeds which of this
	// device's slots (JSON, advisory: never used to attribute a frame).
	Slots string
}

// Relay returns the relay link's statistics.
func (e *Engine) Relay() RelayStats {
	var s RelayStats
	var c PeerStats
	e.relayStats.fill(&c)
	s.Reconnects, s.FramesSent, s.BytesSent, s.Unattributed = c.Reconnects, c.FramesSent, c.BytesSent, c.Rejected
	s.SignaturesSent = e.sigsSent.Load()
	e.cutsMu.Lock()
	s.Cuts = slices.Clone(e.cuts)
	e.cutsMu.Unlock()
	for i := range s.Layers {
		s.Layers[i] = LayerStats{RID: layerRIDs[i], FramesSent: e.layerStats[i].frames.Load(), BytesSent: e.layerStats[i].bytes.Load()}
	}
	if l := e.relayCur.Load(); l != nil {
		s.Signatures = l.sigs.Stats()
		s.Node, s.State = l.node, l.pc.ConnectionState().String()
		if sl := l.slots.Load(); sl != nil {
			s.Slots = *sl
		}
	}
	return s
}

// maxCutsKept bounds RelayStats.Cuts.
const maxCutsKept = 16

// noteCut keeps a cut for RelayStats.
func (e *Engine) noteCut(msg string) {
	e.cutsMu.Lock()
	defer e.cutsMu.Unlock()
	e.cuts = append(e.cuts, msg)
	if len(e.cuts) > maxCutsKept {
		e.cuts = slices.Delete(e.cuts, 0, len(e.cuts)-maxCutsKept)
	}
}
