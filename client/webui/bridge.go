package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
)

// How the bridge steers the page's video encoder from the mesh. The page
// sends its camera to this client over loopback, so its encoder never
// sees the real paths: the bridge passes on the mesh's key-frame requests
// (a PLI to the page for each PLI or FIR a peer sent, merged), and caps
// the encoder at the congestion controllers' estimate of the paths
// (Engine.TargetBitrate, less audio) with an RTCP REMB every
// rembEvery, which the browser's bandwidth estimation takes as the
// receiver's limit. keyFrameFallback asks for a key frame now and then
// in case a request was lost on the way.
const (
	rembEvery        = 500 * time.Millisecond
	keyFrameFallback = 10 * time.Second
	// pageAudioReserve is what the page's microphone may take of the
	// estimate.
	pageAudioReserve = 64_000
)

// Reacher is a Mailbox that also says how the page's calls reach other
// networks: parley ui's carries its --relays, --ice-server and
// --relay-only flags. relayOnly is the page's own choice.
type Reacher interface {
	Reach(meetingID []byte, relayOnly bool) (call.Reach, error)
}

// MediaRelayer is a Mailbox that also dials the nodes' media relays for a
// meeting's call (client/mailbox's Client.MediaRelay): with one, a call
// of more than call.DefaultMeshLimit members moves from the mesh to the
// relays, and the page takes meetings of up to call.MaxRelayMembers. A
// nil dialer (parley ui --media-relay=false) keeps the mesh.
type MediaRelayer interface {
	MediaRelay(meetingID []byte) call.MediaRelayDialer
}

// mediaRelay returns the media relay dialer of meeting id's call, or nil.
func mediaRelay(mb Mailbox, id []byte) call.MediaRelayDialer {
	if r, ok := mb.(MediaRelayer); ok {
		return r.MediaRelay(id)
	}
	return nil
}

// noteRelayOnly keeps the page's relay-only choice, which rides on its
// create and join messages as "relayOnly" (PROTOCOL.md section 7), for
// the call those start.
func (c *controller) noteRelayOnly(raw []byte) {
	var m struct {
		Type      string `json:"type"`
		RelayOnly bool   `json:"relayOnly"`
	}
	if json.Unmarshal(raw, &m) == nil && (m.Type == "create" || m.Type == "join") {
		c.relayOnly.Store(m.RelayOnly)
	}
}

// pathsMsg tells the page, every pathsEvery, the path of each peer's
// connection: "direct", "relayed", or "" before ICE chose one; and, on
// a media relay, how the call goes through it.
type pathsMsg struct {
	Type  string            `json:"type"` // "paths"
	Paths map[string]string `json:"paths"`
	Relay *relayInfo        `json:"relay,omitempty"`
}

// relayInfo is the page's view of its call's media relay link: the
// node, the link's state, the frames of each camera layer sent (q, h,
// f), and the frame signatures of the others verified and cut.
type relayInfo struct {
	Node     string                 `json:"node"`
	State    string                 `json:"state"`
	Layers   [call.NumLayers]uint64 `json:"layers"`
	Verified uint64                 `json:"verified"`
	Cut      uint64                 `json:"cut"`
	Held     uint64                 `json:"held"`
}

// relayInfoOf returns the engine's relay link for the page, nil without
// one.
func relayInfoOf(e *call.Engine) *relayInfo {
	rs := e.Relay()
	if rs.Node == "" {
		return nil
	}
	sg := rs.Signatures
	ri := &relayInfo{Node: rs.Node, State: rs.State, Verified: sg.Verified, Cut: sg.CutForged + sg.CutUnsigned + sg.CutEquivocated, Held: sg.Held}
	for i, l := range rs.Layers {
		ri.Layers[i] = l.FramesSent
	}
	return ri
}

const pathsEvery = time.Second

// reach returns the Reach of meeting id's call: the mailbox's, relay-only
// when the page asked; the zero Reach (host candidates) for a mailbox
// that is not a Reacher.
func (c *controller) reach(mb Mailbox, id []byte, relayOnly bool) call.Reach {
	r, ok := mb.(Reacher)
	if !ok {
		return call.Reach{}
	}
	reach, err := r.Reach(id, relayOnly)
	if err != nil {
		c.logf("reachability: %v", err)
		c.notice("warn", "media", "Relays: "+err.Error())
	}
	return reach
}

// bridge is the WebRTC connection between the page and its own client, on
// this machine: the page sends its camera and microphone, SFrame-encrypted
// in its Worker; the client checks each frame (call.Engine.SendSealed) and
// sends it to the other members. The other members' frames, still
// encrypted, come back on the page's receive slots, and the page decrypts
// them. The client never sees the page's media in the clear, nor the page
// the meeting key.
type bridge struct {
	c      *controller
	pc     *webrtc.PeerConnection
	tracks map[call.MediaKind]*[numSlots]*webrtc.TrackLocalStaticSample
	// screenMid is the page's screen-share transceiver: its frames are
	// Screen, not Video, though both are VP8.
	screenMid string
	mu        sync.Mutex
	video     map[uint32]bool // the page's video streams' SSRCs (steerVideo)
	rejects   atomic.Int64
	lastErr   atomic.Pointer[string]
	wg        sync.WaitGroup
	stop      chan struct{}
	once      sync.Once
}

// newBridge answers the page's offer (m): it has send-only video, audio
// and screen transceivers (the page's camera, microphone and shared
// screen, whose mid is m.ScreenSend) and numSlots receive-only ones of
// each kind, whose mids, in slot order, are in m.Video, m.Audio and
// m.Screen.
func newBridge(c *controller, m inbound) (*bridge, string, error) {
	sdp, video, audio, screen := m.SDP, m.Video, m.Audio, m.Screen
	if len(video) != numSlots || len(audio) != numSlots || len(screen) != numSlots || m.ScreenSend == "" {
		return nil, "", fmt.Errorf("the page offered %d video, %d audio and %d screen slots and screen sender %q, want %d of each and a sender", len(video), len(audio), len(screen), m.ScreenSend, numSlots)
	}
	api, err := call.NewAPI(call.DefaultSettingEngine())
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	b := &bridge{c: c, pc: pc, stop: make(chan struct{}), screenMid: m.ScreenSend, video: map[uint32]bool{}, tracks: map[call.MediaKind]*[numSlots]*webrtc.TrackLocalStaticSample{
		call.Video: {}, call.Audio: {}, call.Screen: {},
	}}
	ok := false
	defer func() {
		if !ok {
			b.close()
		}
	}()
	pc.OnTrack(b.receive)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return nil, "", fmt.Errorf("the page's offer: %w", err)
	}
	byMid := map[string]*webrtc.RTPTransceiver{}
	for _, tr := range pc.GetTransceivers() {
		byMid[tr.Mid()] = tr
	}
	for kind, mids := range map[call.MediaKind][]string{call.Video: video, call.Audio: audio, call.Screen: screen} {
		for i, mid := range mids {
			tr := byMid[mid]
			if tr == nil {
				return nil, "", fmt.Errorf("the page's %v slot %d names mid %q, which its offer does not have", kind, i, mid)
			}
			track, err := webrtc.NewTrackLocalStaticSample(call.Capability(kind), fmt.Sprintf("%v-%d", kind, i), fmt.Sprintf("slot-%d", i))
			if err != nil {
				return nil, "", err
			}
			sender, err := api.NewRTPSender(track, pc.SCTP().Transport())
			if err != nil {
				return nil, "", err
			}
			if err := tr.SetSender(sender, track); err != nil {
				return nil, "", fmt.Errorf("%v slot %d: %w", kind, i, err)
			}
			b.tracks[kind][i] = track
			b.wg.Go(func() { drainRTCP(sender) })
		}
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return nil, "", err
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		return nil, "", errors.New("gathering the client's ICE candidates took over 10 s")
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.logf("page media connection %s", s)
		switch s {
		case webrtc.PeerConnectionStateFailed:
			c.notice("error", "media", "The media connection between this page and the Parley client failed; reload the page to try again.")
		case webrtc.PeerConnectionStateConnected:
			c.notice("info", "media", "")
		}
	})
	b.wg.Go(b.steerVideo)
	ok = true
	return b, pc.LocalDescription().SDP, nil
}

func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// receive reads one of the page's tracks: frames, reassembled from RTP,
// go to the call engine, which checks and sends them.
func (b *bridge) receive(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	kind, sb, ok := call.NewFrameBuilder(t.Codec())
	if !ok {
		return
	}
	if kind == call.Video && b.midOf(r) == b.screenMid {
		kind = call.Screen
	}
	layer := call.LayerF
	if rid := t.RID(); rid != "" && kind == call.Video {
		l, ok := call.LayerOfRID(rid)
		if !ok {
			b.c.logf("ignoring the page's camera encoding %q: want q, h or f", rid)
			return
		}
		layer = l
	}
	if kind.IsVideo() {
		b.addVideo(uint32(t.SSRC()))
	}
	level := audioLevelID(r)
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		if level != 0 {
			if ext := pkt.GetExtension(level); len(ext) > 0 {
				if e := b.c.engine(); e != nil {
					e.SetSealedAudioLevel(ext[0] & 0x7f)
				}
			}
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			b.forward(kind, layer, s)
		}
	}
}

// audioLevelID returns the ID the page's connection gave the RFC 6464
// audio level extension on r's stream, 0 when none: the browser measures
// its microphone's level before it encodes, and the relay forwards the
// loudest members by it.
func audioLevelID(r *webrtc.RTPReceiver) uint8 {
	for _, x := range r.GetParameters().HeaderExtensions {
		if x.URI == sdp.AudioLevelURI && x.ID > 0 && x.ID < 256 {
			return uint8(x.ID) //nolint:gosec // checked above
		}
	}
	return 0
}

// midOf returns the mid of r's transceiver.
func (b *bridge) midOf(r *webrtc.RTPReceiver) string {
	for _, tr := range b.pc.GetTransceivers() {
		if tr.Receiver() == r {
			return tr.Mid()
		}
	}
	return ""
}

// forward hands one frame of the page to the engine: a camera frame as
// one of its simulcast layers.
func (b *bridge) forward(kind call.MediaKind, layer int, s *media.Sample) {
	e := b.c.engine()
	if e == nil {
		return
	}
	if err := e.SendSealedLayer(kind, layer, s.Data, s.Duration); err != nil {
		n := b.rejects.Add(1)
		msg := err.Error()
		if last := b.lastErr.Swap(&msg); last == nil || *last != msg || n%100 == 1 {
			b.c.logf("refused a %v frame of the page: %v (%d so far)", kind, err, n)
		}
	}
}

// steerVideo asks the page's video encoders (camera and screen) for a key
// frame when a peer asks this device for one (and now and then), caps
// their bitrate at what the mesh's paths carry, and tells the page each
// peer's path. One loop serves both tracks: a peer's request names no
// track, and the engine's request channel has one reader.
func (b *bridge) steerVideo() {
	remb := time.NewTicker(rembEvery)
	defer remb.Stop()
	paths := time.NewTicker(pathsEvery)
	defer paths.Stop()
	fallback := time.NewTicker(keyFrameFallback)
	defer fallback.Stop()
	var requests <-chan struct{}
	var engine *call.Engine
	for {
		// The engine changes with the meeting; follow the current one.
		if e := b.c.engine(); e != engine {
			engine, requests = e, nil
			if e != nil {
				requests = e.KeyframeRequests()
			}
		}
		var err error
		select {
		case <-b.stop:
			return
		case <-requests:
			err = b.pli(b.videoSSRCs()...)
		case <-fallback.C:
			err = b.pli(b.videoSSRCs()...)
		case <-paths.C:
			if engine != nil {
				msg := pathsMsg{Type: "paths", Paths: map[string]string{}, Relay: relayInfoOf(engine)}
				for _, st := range engine.Stats() {
					msg.Paths[meeting.DeviceRef{User: st.UserID, Device: st.DeviceID}.String()] = st.Path.Kind()
				}
				b.c.send(msg)
			}
		case <-remb.C:
			ssrcs := b.videoSSRCs()
			if engine != nil && len(ssrcs) > 0 {
				if target := engine.TargetBitrate(); target > 0 {
					bitrate := float32(max(target-pageAudioReserve, call.MinBitrate))
					err = b.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bitrate, SSRCs: ssrcs}})
				}
			}
		}
		if err != nil && b.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return
		}
	}
}

// pli asks the page for a key frame of each of ssrcs.
func (b *bridge) pli(ssrcs ...uint32) error {
	if len(ssrcs) == 0 {
		return nil
	}
	pkts := make([]rtcp.Packet, len(ssrcs))
	for i, s := range ssrcs {
		pkts[i] = &rtcp.PictureLossIndication{MediaSSRC: s}
	}
	return b.pc.WriteRTCP(pkts)
}

// addVideo notes the SSRC of one of the page's video streams (the
// screen, or an encoding of the camera) and asks it for a key frame at
// once.
func (b *bridge) addVideo(ssrc uint32) {
	b.mu.Lock()
	b.video[ssrc] = true
	b.mu.Unlock()
	_ = b.pli(ssrc)
}

// videoSSRCs are the page's video tracks seen so far.
func (b *bridge) videoSSRCs() []uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]uint32, 0, len(b.video))
	for s := range b.video {
		out = append(out, s)
	}
	return out
}

// write sends a remote member's frame, still encrypted, on its slot.
func (b *bridge) write(slot int, kind call.MediaKind, frame []byte, d time.Duration) {
	if t := b.tracks[kind][slot]; t != nil {
		_ = t.WriteSample(media.Sample{Data: frame, Duration: d})
	}
}

func (b *bridge) close() {
	b.once.Do(func() {
		close(b.stop)
		_ = b.pc.Close()
		b.wg.Wait()
	})
}

// connectPage answers the page's offer with a new bridge, replacing any
// older one (the page reloaded).
func (c *controller) connectPage(m inbound) {
	b, answer, err := newBridge(c, m)
	if err != nil {
		c.logf("page media: %v", err)
		c.notice("error", "media", "Cannot set up the media connection with this page: "+err.Error())
		return
	}
	c.mu.Lock()
	old := c.bridge
	c.bridge = b
	c.mu.Unlock()
	if old != nil {
		old.close()
	}
	c.send(answerMsg{Type: "answer", SDP: answer})
}
