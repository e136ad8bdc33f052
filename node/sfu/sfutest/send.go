package sfutest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// maxPacketPayload splits larger frames into packets.
const maxPacketPayload = 1000

// MediaConfig is the synthetic media Start sends.
type MediaConfig struct {
	// FPS of the camera and screen (default 15).
	FPS int
	// FrameSize is the bytes of a frame by layer: "" (one stream or
	// screen), "q", "h", "f". Default 500.
	FrameSize map[string]int
	// AudioSize is the bytes of an Opus packet (default 80); one goes
	// every 20 ms with the level SetLevel set (default 127, silence).
	AudioSize int
	// KeyframeDelay is how long after a key frame request the key frame
	// comes; KeyframeEvery sends one periodically besides (0: only the
	// first frame and on request).
	KeyframeDelay time.Duration
	KeyframeEvery time.Duration
}

// outTrack is a published stream: one track, or one simulcast layer.
type outTrack struct {
	c       *Client
	kind    string // a, v, s
	rid     string
	track   *webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	levelID uint8
	midID   uint8
	ridID   uint8

	mu      sync.Mutex
	seq     uint16
	frame   int
	pic     uint16
	tl0     uint8
	lastKey time.Time
	tsBase  uint32

	plis   atomic.Int64
	keyDue atomic.Int64 // unix nanoseconds a requested key frame is due, 0 for none
	level  atomic.Uint32
}

// Start sends synthetic media on every published track until Close: Opus
// packets every 20 ms with the current level, and camera (every layer)
// and screen frames at cfg.FPS, key frames on the first frame, on
// request and every cfg.KeyframeEvery.
func (c *Client) Start(cfg MediaConfig) {
	if cfg.FPS <= 0 {
		cfg.FPS = 15
	}
	if cfg.AudioSize <= 0 {
		cfg.AudioSize = 80
	}
	c.keyDelay.Store(int64(cfg.KeyframeDelay))
	if c.audio != nil {
		if c.audio.level.Load() == 0 {
			c.audio.level.Store(127)
		}
		c.loop(20*time.Millisecond, func(now time.Time) { _ = c.audio.sendAudio(cfg.AudioSize) })
	}
	video := append([]*outTrack{}, c.camera...)
	if c.screen != nil {
		video = append(video, c.screen)
	}
	if len(video) > 0 {
		c.loop(time.Second/time.Duration(cfg.FPS), func(now time.Time) {
			for _, o := range video {
				size := cfg.FrameSize[o.rid]
				if size <= 0 {
					size = 500
				}
				_ = o.sendFrame(o.wantsKey(now, cfg.KeyframeEvery), size, now)
			}
		})
	}
}

func (c *Client) loop(every time.Duration, f func(time.Time)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				f(now)
			}
		}
	}()
}

// SetLevel sets the RFC 6464 level (0 loudest, 127 silence) of the
// client's audio packets from now on.
func (c *Client) SetLevel(level uint8) {
	if c.audio != nil {
		c.audio.level.Store(uint32(level & 0x7f))
	}
}

// PLIs counts the key frame requests the client got for its camera layer
// rid ("" for a single stream), or for its screen when screen is true.
func (c *Client) PLIs(screen bool, rid string) int64 {
	if screen {
		if c.screen == nil {
			return 0
		}
		return c.screen.plis.Load()
	}
	for _, o := range c.camera {
		if o.rid == rid {
			return o.plis.Load()
		}
	}
	return 0
}

// SendFrame sends one camera frame on layer rid now, outside Start.
func (c *Client) SendFrame(rid string, key bool, size int) error {
	for _, o := range c.camera {
		if o.rid == rid {
			return o.sendFrame(key, size, time.Now())
		}
	}
	return nil
}

// wantsKey decides whether the next frame is a key frame: the first, a
// requested one that is due, or a periodic one.
func (o *outTrack) wantsKey(now time.Time, every time.Duration) bool {
	o.mu.Lock()
	first, last := o.frame == 0, o.lastKey
	o.mu.Unlock()
	if first {
		return true
	}
	if due := o.keyDue.Load(); due != 0 && now.UnixNano() >= due {
		o.keyDue.Store(0)
		return true
	}
	return every > 0 && now.Sub(last) >= every
}

// sendAudio sends one 20 ms Opus packet with the audio level extension.
func (o *outTrack) sendAudio(size int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.frame++
	p := &rtp.Packet{
		Header:  rtp.Header{Version: 2, SequenceNumber: o.seq, Timestamp: o.tsBase + uint32(o.frame*960), Marker: o.frame == 1},
		Payload: Payload(Tag{Member: o.c.Member, Kind: "a", Frame: o.frame, Size: size}),
	}
	o.seq++
	if o.levelID != 0 {
		_ = p.Header.SetExtension(o.levelID, []byte{byte(o.level.Load()) & 0x7f})
	}
	return o.track.WriteRTP(p)
}

// sendFrame sends one VP8 frame: a descriptor with a 15-bit PictureID and
// a TL0PICIDX, then the tagged payload, split into packets; the marker
// is on the last. Simulcast layers carry the mid and RID extensions, as a
// browser's do.
func (o *outTrack) sendFrame(key bool, size int, now time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.frame++
	o.pic = (o.pic + 1) & 0x7fff
	o.tl0++
	if key {
		o.lastKey = now
	}
	ts := o.tsBase + uint32(now.UnixNano()/1e6*90)
	parts := (size + maxPacketPayload - 1) / maxPacketPayload
	for part := range parts {
		n := min(maxPacketPayload, size-part*maxPacketPayload)
		desc := []byte{0x80, 0xc0, 0x80 | byte(o.pic>>8), byte(o.pic), o.tl0}
		if part == 0 {
			desc[0] |= 0x10 // S: start of partition 0
		}
		body := Payload(Tag{Member: o.c.Member, Kind: o.kind, Layer: o.rid, Frame: o.frame, Part: part, Key: key, Size: n})
		p := &rtp.Packet{
			Header:  rtp.Header{Version: 2, SequenceNumber: o.seq, Timestamp: ts, Marker: part == parts-1},
			Payload: append(desc, body...),
		}
		o.seq++
		if o.rid != "" {
			if o.midID != 0 {
				_ = p.Header.SetExtension(o.midID, []byte("pv"))
			}
			if o.ridID != 0 {
				_ = p.Header.SetExtension(o.ridID, []byte(o.rid))
			}
		}
		if err := o.track.WriteRTP(p); err != nil {
			return err
		}
	}
	return nil
}

// readRTCP counts PLIs and FIRs and schedules the key frame they ask for.
func (o *outTrack) readRTCP() {
	for {
		var pkts []rtcp.Packet
		var err error
		if o.rid != "" {
			pkts, _, err = o.sender.ReadSimulcastRTCP(o.rid)
		} else {
			pkts, _, err = o.sender.ReadRTCP()
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				o.plis.Add(1)
				o.keyDue.CompareAndSwap(0, time.Now().Add(time.Duration(o.c.keyDelay.Load())).UnixNano())
			}
		}
	}
}
