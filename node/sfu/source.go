package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Timing of sources.
const (
	// pliInterval: a source gets at most one key frame request per
	// interval, whoever asks (subscribers or the relay switching).
	pliInterval = 500 * time.Millisecond
	// videoIdle: a camera or screen with no packet for this long is off:
	// its member loses the slots it had for it.
	videoIdle = 2 * time.Second
	// receiveMTU bounds one RTP packet read from a publisher.
	receiveMTU = 1500
)

// sourceKind is what a published track is, by its mid.
type sourceKind uint8

const (
	kindAudio  sourceKind = iota // pa
	kindCamera                   // pv, one per simulcast layer
	kindScreen                   // ps
)

func (k sourceKind) clockRate() uint32 {
	if k == kindAudio {
		return 48000
	}
	return 90000
}

// source is one stream a member publishes: its audio, a camera layer or
// its screen. It is read once, by run, which hands each packet to the
// down-tracks forwarding it (or waiting to switch to it).
type source struct {
	relay *Relay
	owner *session
	kind  sourceKind
	rid   string // camera layer: q, h or f; "" for a single stream
	track *webrtc.TrackRemote
	ssrc  uint32
	// levelID is the publisher's ID of the audio level extension, 0 when
	// not negotiated.
	levelID uint8
	level   levelMeter

	subMu sync.Mutex                   // serialises changes of downs and pushes
	downs atomic.Pointer[[]*downTrack] // copy on write: run reads it per packet
	// pushes are the push links' tracks carrying this source to peer
	// relays; only the relay's own sessions' sources have any. Once the
	// source is forgotten (its member left, or it ended) it has none
	// and takes none.
	pushes    atomic.Pointer[[]*pushTrack]
	forgotten bool // subMu

	started    atomic.Int64 // relay-clock nanoseconds of the first packet, 0 before
	lastPacket atomic.Int64 // relay-clock nanoseconds of the last packet
	bytes      atomic.Int64 // since the last measure
	rate       atomic.Int64 // bit/s over the last measured window
	measuredAt time.Time    // owned by the relay's tick

	pliMu   sync.Mutex
	lastPLI time.Time
}

// inbound is one packet of a source as every down-track sees it: parsed
// once.
type inbound struct {
	p        *rtp.Packet
	vp8      vp8Desc
	key      bool // first packet of a VP8 key frame
	level    byte // audio level extension byte
	hasLevel bool
	now      time.Time
}

// run reads the source until its track ends.
func (s *source) run() {
	buf := make([]byte, receiveMTU)
	var p rtp.Packet
	for {
		n, _, err := s.track.Read(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			continue // an oversized packet is dropped, not the stream
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				s.relay.log.Debugf("%s: %s stops: %v", s.owner.name, s.describe(), err)
			}
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		s.handle(&p)
	}
}

// handle measures a packet and forwards it.
func (s *source) handle(p *rtp.Packet) {
	now := s.relay.cfg.Now()
	ns := now.UnixNano()
	s.started.CompareAndSwap(0, ns)
	s.lastPacket.Store(ns)
	s.bytes.Add(int64(len(p.Payload) + 12))
	in := inbound{p: p, now: now}
	if s.kind == kindAudio {
		if s.levelID != 0 {
			if ext := p.GetExtension(s.levelID); len(ext) >= 1 {
				in.level, in.hasLevel = ext[0], true
				s.level.observe(ext[0])
			}
		}
	} else if d, ok := parseVP8(p.Payload); ok {
		in.vp8, in.key = d, d.keyStart
	}
	if downs := s.downs.Load(); downs != nil {
		for _, d := range *downs {
			d.forward(s, &in)
		}
	}
	if pushes := s.pushes.Load(); pushes != nil {
		for _, pt := range *pushes {
			pt.forward(&in)
		}
	}
}

// addDown makes d see this source's packets.
func (s *source) addDown(d *downTrack) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	var list []*downTrack
	if cur := s.downs.Load(); cur != nil {
		for _, x := range *cur {
			if x == d {
				return
			}
		}
		list = append(list, *cur...)
	}
	list = append(list, d)
	s.downs.Store(&list)
}

// removeDown stops d seeing this source's packets.
func (s *source) removeDown(d *downTrack) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	cur := s.downs.Load()
	if cur == nil {
		return
	}
	list := make([]*downTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			list = append(list, x)
		}
	}
	s.downs.Store(&list)
}

// addPush makes pt carry this source's packets to a peer relay, unless
// the source is forgotten.
func (s *source) addPush(pt *pushTrack) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.forgotten {
		return
	}
	var list []*pushTrack
	if cur := s.pushes.Load(); cur != nil {
		list = append(list, *cur...)
	}
	list = append(list, pt)
	s.pushes.Store(&list)
}

// forgetPushes stops every push link carrying this source, for good.
func (s *source) forgetPushes() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.forgotten = true
	s.pushes.Store(nil)
}

// removePush stops pt carrying this source's packets.
func (s *source) removePush(pt *pushTrack) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	cur := s.pushes.Load()
	if cur == nil {
		return
	}
	list := make([]*pushTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != pt {
			list = append(list, x)
		}
	}
	s.pushes.Store(&list)
}

// active reports a packet within idle before now.
func (s *source) active(now time.Time, idle time.Duration) bool {
	last := s.lastPacket.Load()
	return last != 0 && now.UnixNano()-last < int64(idle)
}

// requestKeyframe sends the publisher a PLI for this source unless one
// went less than pliInterval ago; it reports whether it sent one.
func (s *source) requestKeyframe() bool {
	if s.kind == kindAudio {
		return false
	}
	now := s.relay.cfg.Now()
	s.pliMu.Lock()
	if !s.lastPLI.IsZero() && now.Sub(s.lastPLI) < pliInterval {
		s.pliMu.Unlock()
		return false
	}
	s.lastPLI = now
	s.pliMu.Unlock()
	err := s.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: s.ssrc}})
	return err == nil
}

// measure sets rate from the bytes since the last measure.
func (s *source) measure(now time.Time) {
	b := s.bytes.Swap(0)
	if !s.measuredAt.IsZero() {
		if dt := now.Sub(s.measuredAt).Seconds(); dt > 0 {
			s.rate.Store(int64(float64(b*8) / dt))
		}
	}
	s.measuredAt = now
}

func (s *source) describe() string {
	switch s.kind {
	case kindAudio:
		return "audio"
	case kindScreen:
		return "screen"
	}
	if s.rid != "" {
		return "camera layer " + s.rid
	}
	return "camera"
}

// String names the kind as the relay's Tamper hook and logs do: "audio",
// "video" or "screen".
func (k sourceKind) String() string {
	switch k {
	case kindAudio:
		return "audio"
	case kindCamera:
		return "video"
	}
	return "screen"
}
