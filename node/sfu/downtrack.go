package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// downTrack is one slot of a subscriber (an r* mid): a track of the
// subscriber's connection with its own SSRC, forwarding one source at a
// time. A switch to another source is pending until that source's next
// key frame (any packet, for audio); until then the slot goes on
// forwarding the one it had. Everything below mu is used by the
// forwarding goroutines of cur and pending and by the allocator.
type downTrack struct {
	sess    *session
	mid     string
	kind    sourceKind // kindAudio, kindCamera (rv*) or kindScreen (rs0)
	track   *webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	levelID uint8 // the subscriber's ID of the audio level extension

	mu           sync.Mutex
	closed       bool
	cur          *source
	pending      *source
	pendingSince time.Time
	m            munger
	payload      []byte           // scratch for rewritten VP8 descriptors
	exts         [2]rtp.Extension // scratch for the header's extensions
	level        [1]byte
}

func newDownTrack(s *session, mid string, kind sourceKind, track *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender) *downTrack {
	return &downTrack{sess: s, mid: mid, kind: kind, track: track, sender: sender, m: munger{clockRate: kind.clockRate(), frames: kind != kindAudio}}
}

// forward sends in, from src, if src is the slot's source, switching to
// src first if it is pending and in can start it.
func (d *downTrack) forward(src *source, in *inbound) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.pending == src && (src.kind == kindAudio || in.key) {
		old := d.cur
		d.cur, d.pending = src, nil
		d.m.rebase(in.p.SequenceNumber, in.p.Timestamp, in.vp8, in.now)
		if old != nil {
			d.sess.noteFormer(old.owner, in.now)
			old.removeDown(d)
			if old.owner == src.owner {
				d.sess.relay.stats.layerSwitches.Add(1)
			} else {
				d.sess.relay.stats.slotSwitches.Add(1)
			}
		}
		d.sess.slotsDirty.Store(true)
	}
	if d.cur != src {
		return
	}
	n, ok := d.m.next(in.p.SequenceNumber, in.p.Timestamp, len(in.p.Payload) == 0, in.p.Marker, in.vp8, in.now)
	if !ok {
		return
	}
	out := rtp.Packet{Header: in.p.Header}
	h := &out.Header
	h.SequenceNumber, h.Timestamp = n.seq, n.ts
	h.Padding, h.PaddingSize = false, 0
	// The publisher's extensions carry its connection's IDs and its
	// transport numbers; only the audio level goes on, under the
	// subscriber's ID. pion adds this connection's transport-cc number.
	h.Extension, h.ExtensionProfile, h.Extensions = false, 0, d.exts[:0]
	if in.hasLevel && d.levelID != 0 {
		d.level[0] = in.level
		_ = h.SetExtension(d.levelID, d.level[:])
	}
	out.Payload = in.p.Payload
	if d.m.rewritesDescriptor() && (in.vp8.picBits != 0 || in.vp8.tl0Off != 0) {
		d.payload = append(d.payload[:0], in.p.Payload...)
		if in.vp8.picBits != 0 {
			in.vp8.putPictureID(d.payload, n.pic)
		}
		if in.vp8.tl0Off != 0 {
			d.payload[in.vp8.tl0Off] = n.tl0
		}
		out.Payload = d.payload
	}
	if tamper := d.sess.relay.cfg.Tamper; tamper != nil {
		for _, p := range tamper(src.owner.key, d.sess.key, src.kind.String(), &out) {
			d.write(p)
		}
		return
	}
	d.write(&out)
}

// write sends one packet on the slot and counts it.
func (d *downTrack) write(p *rtp.Packet) {
	if d.track.WriteRTP(p) == nil {
		st := &d.sess.relay.stats
		st.packets.Add(1)
		st.bytes.Add(uint64(len(p.Payload)))
	}
}

// target is the source the slot forwards or is switching to.
func (d *downTrack) target() *source {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending != nil {
		return d.pending
	}
	return d.cur
}

// current is the source the slot forwards now.
func (d *downTrack) current() *source {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

// setTarget makes src the slot's source: at once when src is nil (the
// slot stops) or already current, otherwise pending until src can start.
// It reports whether src now waits for a key frame, so the caller asks
// for one.
func (d *downTrack) setTarget(src *source, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	if d.pending == src && src != nil {
		return false
	}
	if d.pending != nil {
		if d.pending != d.cur {
			d.pending.removeDown(d)
		}
		d.pending = nil
	}
	if src == nil {
		if d.cur != nil {
			d.sess.noteFormer(d.cur.owner, now)
			d.cur.removeDown(d)
			d.cur = nil
			d.sess.slotsDirty.Store(true)
		}
		return false
	}
	if d.cur == src {
		return false
	}
	d.pending, d.pendingSince = src, now
	src.addDown(d)
	return src.kind != kindAudio
}

// waiting returns the pending source when it has waited longer than
// after, so the caller asks it for a key frame again.
func (d *downTrack) waiting(now time.Time, after time.Duration) *source {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending != nil && now.Sub(d.pendingSince) >= after {
		return d.pending
	}
	return nil
}

// forget stops the slot forwarding or waiting for src, at once.
func (d *downTrack) forget(src *source) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending == src {
		d.pending = nil
		src.removeDown(d)
	}
	if d.cur == src {
		d.cur = nil
		src.removeDown(d)
		d.sess.slotsDirty.Store(true)
	}
}

// close stops the slot for good.
func (d *downTrack) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.pending != nil {
		d.pending.removeDown(d)
	}
	if d.cur != nil {
		d.cur.removeDown(d)
	}
	d.cur, d.pending = nil, nil
}

// readRTCP reads the subscriber's RTCP on this slot until the connection
// ends: reading is what lets pion's interceptors act on NACKs and
// transport-cc feedback; PLI and FIR are passed on to the slot's current
// source, spaced by the source's pliInterval.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		wants := false
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				wants = true
			}
		}
		if !wants || d.kind == kindAudio {
			continue
		}
		src := d.current()
		if src == nil {
			continue
		}
		if src.requestKeyframe() {
			d.sess.relay.stats.pliForwarded.Add(1)
		} else {
			d.sess.relay.stats.pliSuppressed.Add(1)
		}
	}
}
