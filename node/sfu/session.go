package sfu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/parleynet/parley/internal/ids"
)

// session is one member's connection to the relay: what it publishes
// (sources) and its slots (down-tracks). The fields under "meeting.mu"
// change only under its meeting's lock.
type session struct {
	relay   *Relay
	meeting *meeting
	key     ids.DeviceRef
	name    string // key.String(), as the data channel spells members
	shape   offerShape
	pc      *webrtc.PeerConnection
	bwe     cc.BandwidthEstimator
	created time.Time

	audioSlots []*downTrack
	videoSlots []*downTrack
	screenSlot *downTrack
	slots      []*downTrack // all of the above

	// formerMu guards former: members whose media a slot stopped
	// forwarding, and when (noteFormer), at most one per member of the
	// meeting.
	formerMu sync.Mutex
	former   map[string]time.Time // by member name
	// remote is the pull link a member of a peer relay comes through;
	// nil for the relay's own sessions. A remote member has no slots, no
	// data channel and no connection of its own (pc is the link's), and
	// is never rechecked: the peer relay admitted it, and it only
	// publishes.
	remote *pullLink

	// meeting.mu
	committed bool
	gone      bool
	joinSeq   uint64
	audio     *source
	camera    []*source // one per RID in offer order, or one single stream
	screen    *source
	pins      []string
	score     float64   // speech score of the last tick
	lastLoud  time.Time // last tick its score was speaking

	connected atomic.Bool
	// dcOpen: the session's data channel is open on the relay's side. Its
	// slots are filled only then: a member must get the frame signatures
	// of every frame it gets, and they come on the channel.
	dcOpen     atomic.Bool
	closing    atomic.Bool
	dc         atomic.Pointer[webrtc.DataChannel]
	opaque     *rate.Limiter
	prefs      *rate.Limiter
	slotsDirty atomic.Bool
	lastSlots  []byte // the relay's tick only
}

// newSession makes the connection of a joining member and registers it
// with the relay so that Close reaches it.
func (r *Relay) newSession(m *meeting, key ids.DeviceRef, shape offerShape) (*session, error) {
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: new peer connection: %w", err)
	}
	s := &session{
		relay:   r,
		meeting: m,
		key:     key,
		name:    key.String(),
		shape:   shape,
		pc:      pc,
		bwe:     r.bwes.Take(pc.ID()),
		created: r.cfg.Now(),
		opaque:  rate.NewLimiter(opaqueRate, opaqueBurst),
		prefs:   rate.NewLimiter(prefsRate, prefsBurst),
	}
	if !r.track(s) {
		_ = pc.Close()
		return nil, ErrClosed
	}
	pc.OnTrack(s.onTrack)
	pc.OnDataChannel(s.onDataChannel)
	pc.OnConnectionStateChange(s.onConnectionState)
	return s, nil
}

// negotiate answers offer: it adds the slot tracks on the r* mids before
// applying the offer (pion matches them by mid, so each answers
// sendonly), and waits for ICE gathering so that the answer carries the
// relay's candidates.
func (s *session) negotiate(ctx context.Context, offer string) (string, error) {
	add := func(mid string, kind sourceKind) error {
		capability := VP8Capability
		if kind == kindAudio {
			capability = OpusCapability
		}
		track, err := webrtc.NewTrackLocalStaticRTP(capability, mid, "parley-relay")
		if err != nil {
			return err
		}
		tr, err := s.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		if err := tr.SetMid(mid); err != nil {
			return err
		}
		d := newDownTrack(s, mid, kind, track, tr.Sender())
		switch kind {
		case kindAudio:
			s.audioSlots = append(s.audioSlots, d)
		case kindCamera:
			s.videoSlots = append(s.videoSlots, d)
		default:
			s.screenSlot = d
		}
		s.slots = append(s.slots, d)
		return nil
	}
	for i := range s.shape.audioSlots {
		if err := add(fmt.Sprintf("%s%d", prefixAudioSlot, i), kindAudio); err != nil {
			return "", fmt.Errorf("sfu: audio slot %d: %w", i, err)
		}
	}
	for i := range s.shape.videoSlots {
		if err := add(fmt.Sprintf("%s%d", prefixVideoSlot, i), kindCamera); err != nil {
			return "", fmt.Errorf("sfu: video slot %d: %w", i, err)
		}
	}
	if s.shape.screenSlot {
		if err := add(midScreenSlot, kindScreen); err != nil {
			return "", fmt.Errorf("sfu: screen slot: %w", err)
		}
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: no answer: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("%w: answer refused: %v", ErrBadOffer, err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %v", ErrGathering, ctx.Err())
	case <-s.relay.done:
		return "", ErrClosed
	}
	for _, d := range s.audioSlots {
		d.levelID = extensionID(d.sender.GetParameters().HeaderExtensions, AudioLevelURI)
	}
	return s.pc.LocalDescription().SDP, nil
}

// start begins reading each slot's RTCP, once the session is committed.
func (s *session) start() {
	for _, d := range s.slots {
		s.relay.spawn(d.readRTCP)
	}
}

// onTrack takes a published track: checks its mid and RID, registers it
// as a source and reads it.
func (s *session) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	if tr := recv.RTPTransceiver(); tr != nil {
		mid = tr.Mid()
	}
	src := &source{relay: s.relay, owner: s, track: t, ssrc: uint32(t.SSRC()), rid: t.RID()}
	switch {
	case mid == midAudio && t.Kind() == webrtc.RTPCodecTypeAudio && t.RID() == "":
		src.kind = kindAudio
		src.levelID = extensionID(recv.GetParameters().HeaderExtensions, AudioLevelURI)
	case mid == midCamera && t.Kind() == webrtc.RTPCodecTypeVideo && (t.RID() == "" || containsString(s.shape.simulcast, t.RID())):
		src.kind = kindCamera
	case mid == midScreen && t.Kind() == webrtc.RTPCodecTypeVideo && t.RID() == "":
		src.kind = kindScreen
	default:
		s.relay.log.Debugf("%s: ignoring a track on mid %q RID %q", s.name, mid, t.RID())
		return
	}
	if !s.meeting.addSource(src) {
		return
	}
	if !s.relay.spawn(func() {
		src.run()
		s.meeting.removeSource(src)
	}) {
		s.meeting.removeSource(src)
	}
}

func (s *session) onConnectionState(state webrtc.PeerConnectionState) {
	switch state {
	case webrtc.PeerConnectionStateConnected:
		s.connected.Store(true)
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.close("connection " + state.String())
	}
}

// close ends the session: at once it leaves its meeting — its sources
// leave every slot and its slots stop — and its connection closes in the
// background (or in Relay.Close). A session not yet committed only has
// its connection closed: its Join fails and gives back the reservation.
func (s *session) close(reason string) {
	if s.remote != nil || !s.closing.CompareAndSwap(false, true) {
		return
	}
	if s.meeting.remove(s) {
		s.relay.log.Infof("meeting %x: %s leaves: %s", s.meeting.id, s.name, reason)
		s.relay.release(s.meeting, true)
	}
	s.relay.closePC(s)
}
