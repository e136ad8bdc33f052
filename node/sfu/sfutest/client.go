package sfutest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/node/sfu"
)

// Options shape a Client's offer: what it publishes and how many slots it
// asks for.
type Options struct {
	// Member is "user/device": the JoinRequest's user and device, and
	// what the client's payloads say about their sender.
	Member string
	// Audio, Camera and Screen publish on pa, pv and ps; Simulcast makes
	// the camera three layers q, h and f.
	Audio, Camera, Screen, Simulcast bool
	// AudioSlots, VideoSlots and ScreenSlot ask for ra*, rv* and rs0.
	AudioSlots, VideoSlots int
	ScreenSlot             bool
	// NoDataChannel and ExtraMids break the contract, for hostile tests:
	// no parley-relay channel; more recvonly video m-lines with these
	// mids.
	NoDataChannel bool
	ExtraMids     []string
	// SettingEngine: nil means LoopbackSettingEngine.
	SettingEngine *webrtc.SettingEngine
}

// Client is one member's side of the wire contract, in plain pion: its
// published tracks, its slots, and its data channel. It records what it
// receives, counts the key frame requests it gets, and answers them with
// key frames when it runs synthetic media (Start).
type Client struct {
	Member string
	PC     *webrtc.PeerConnection
	DC     *webrtc.DataChannel

	opts      Options
	audio     *outTrack
	camera    []*outTrack
	screen    *outTrack
	connected chan struct{}
	dcOpen    chan struct{}
	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	keyDelay  atomic.Int64 // MediaConfig.KeyframeDelay

	mu     sync.Mutex
	closed bool
	recv   map[string][]Packet
	count  map[string]int
	msgs   [][]byte
	ssrc   map[string]uint32 // slot mid → SSRC
}

// NewAPI is the pion API of a client: the relay's codecs and header
// extensions, NACK, RTCP reports and transport-wide congestion control
// feedback (so the relay's estimator runs).
func NewAPI(se *webrtc.SettingEngine) (*webrtc.API, error) {
	m, err := sfu.MediaEngine()
	if err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(*se)), nil
}

// NewClient makes a client's connection and its transceivers, each with
// the mid of the wire contract.
func NewClient(opts Options) (*Client, error) {
	se := opts.SettingEngine
	if se == nil {
		se = LoopbackSettingEngine()
	}
	api, err := NewAPI(se)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	c := &Client{
		Member:    opts.Member,
		PC:        pc,
		opts:      opts,
		connected: make(chan struct{}),
		dcOpen:    make(chan struct{}),
		stop:      make(chan struct{}),
		recv:      map[string][]Packet{},
		count:     map[string]int{},
		ssrc:      map[string]uint32{},
	}
	if err := c.setup(); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) setup() error {
	opts := c.opts
	send := func(mid, kind string, rids []string) ([]*outTrack, error) {
		var out []*outTrack
		var tr *webrtc.RTPTransceiver
		for _, rid := range rids {
			capability, id := sfu.VP8Capability, "video-"+mid
			if kind == "a" {
				capability, id = sfu.OpusCapability, "audio"
			}
			var topts []func(*webrtc.TrackLocalStaticRTP)
			if rid != "" {
				topts = append(topts, webrtc.WithRTPStreamID(rid))
			}
			track, err := webrtc.NewTrackLocalStaticRTP(capability, id, strings.ReplaceAll(c.Member, "/", "-"), topts...)
			if err != nil {
				return nil, err
			}
			if tr == nil {
				if tr, err = c.PC.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
					return nil, err
				}
				if err := tr.SetMid(mid); err != nil {
					return nil, err
				}
			} else if err := tr.Sender().AddEncoding(track); err != nil {
				return nil, err
			}
			// Streams start their numbering anywhere, as real senders do, so
			// a relay that did not renumber would be caught.
			o := &outTrack{c: c, kind: kind, rid: rid, track: track, sender: tr.Sender(),
				seq: uint16(rand.Uint32()), pic: uint16(rand.Uint32()) & 0x7fff, tl0: uint8(rand.Uint32()), tsBase: rand.Uint32()}
			out = append(out, o)
		}
		return out, nil
	}
	if opts.Audio {
		t, err := send("pa", "a", []string{""})
		if err != nil {
			return fmt.Errorf("audio: %w", err)
		}
		c.audio = t[0]
	}
	if opts.Camera {
		rids := []string{""}
		if opts.Simulcast {
			rids = []string{"q", "h", "f"}
		}
		t, err := send("pv", "v", rids)
		if err != nil {
			return fmt.Errorf("camera: %w", err)
		}
		c.camera = t
	}
	if opts.Screen {
		t, err := send("ps", "s", []string{""})
		if err != nil {
			return fmt.Errorf("screen: %w", err)
		}
		c.screen = t[0]
	}
	recvonly := func(kind webrtc.RTPCodecType, mid string) error {
		tr, err := c.PC.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return err
		}
		return tr.SetMid(mid)
	}
	for i := range opts.AudioSlots {
		if err := recvonly(webrtc.RTPCodecTypeAudio, fmt.Sprintf("ra%d", i)); err != nil {
			return err
		}
	}
	for i := range opts.VideoSlots {
		if err := recvonly(webrtc.RTPCodecTypeVideo, fmt.Sprintf("rv%d", i)); err != nil {
			return err
		}
	}
	if opts.ScreenSlot {
		if err := recvonly(webrtc.RTPCodecTypeVideo, "rs0"); err != nil {
			return err
		}
	}
	for _, mid := range opts.ExtraMids {
		if err := recvonly(webrtc.RTPCodecTypeVideo, mid); err != nil {
			return err
		}
	}
	if !opts.NoDataChannel {
		dc, err := c.PC.CreateDataChannel("parley-relay", nil)
		if err != nil {
			return err
		}
		c.DC = dc
		dc.OnOpen(func() { closeOnce(c.dcOpen) })
		dc.OnMessage(func(msg webrtc.DataChannelMessage) { c.record(msg.Data) })
	}
	c.PC.OnTrack(c.onTrack)
	c.PC.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			closeOnce(c.connected)
		}
	})
	return nil
}

var closeMu sync.Mutex

func closeOnce(ch chan struct{}) {
	closeMu.Lock()
	defer closeMu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Offer returns the client's complete offer (ICE gathered).
func (c *Client) Offer(ctx context.Context) (string, error) {
	offer, err := c.PC.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(c.PC)
	if err := c.PC.SetLocalDescription(offer); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return c.PC.LocalDescription().SDP, nil
}

// Accept applies the relay's answer and starts reading the key frame
// requests for the published tracks.
func (c *Client) Accept(answer string) error {
	if err := c.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	for _, o := range c.outTracks() {
		exts := o.sender.GetParameters().HeaderExtensions
		o.levelID = extID(exts, sfu.AudioLevelURI)
		o.midID = extID(exts, sdp.SDESMidURI)
		o.ridID = extID(exts, sdp.SDESRTPStreamIDURI)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			o.readRTCP()
		}()
	}
	return nil
}

// WaitConnected waits until the connection and the data channel are up.
func (c *Client) WaitConnected(ctx context.Context) error {
	select {
	case <-c.connected:
	case <-ctx.Done():
		return fmt.Errorf("%s: not connected: %w", c.Member, ctx.Err())
	}
	if c.DC == nil {
		return nil
	}
	select {
	case <-c.dcOpen:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: data channel not open: %w", c.Member, ctx.Err())
	}
}

// Join connects c to the relay in the meeting: offer, Join, answer,
// connected.
func Join(ctx context.Context, r *sfu.Relay, meetingID []byte, c *Client) error {
	user, device, ok := strings.Cut(c.Member, "/")
	if !ok {
		return errors.New("sfutest: member is not user/device")
	}
	offer, err := c.Offer(ctx)
	if err != nil {
		return err
	}
	answer, err := r.Join(ctx, sfu.JoinRequest{MeetingID: meetingID, User: user, Device: device, OfferSDP: offer})
	if err != nil {
		return err
	}
	if err := c.Accept(answer); err != nil {
		return err
	}
	return c.WaitConnected(ctx)
}

// Close stops the client's media and closes its connection.
func (c *Client) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.PC.Close()
	c.wg.Wait()
	return err
}

func (c *Client) outTracks() []*outTrack {
	var out []*outTrack
	if c.audio != nil {
		out = append(out, c.audio)
	}
	out = append(out, c.camera...)
	if c.screen != nil {
		out = append(out, c.screen)
	}
	return out
}

func extID(exts []webrtc.RTPHeaderExtensionParameter, uri string) uint8 {
	for _, e := range exts {
		if e.URI == uri {
			return uint8(e.ID)
		}
	}
	return 0
}

// Connected is closed once the connection is up.
func (c *Client) Connected() <-chan struct{} { return c.connected }
