package sfu

import "time"

// dropRing is how many dropped packets of a segment the munger remembers
// to number late packets around them.
const dropRing = 16

// munger rewrites the numbering of the packets one slot forwards so that
// the subscriber sees one continuous stream whatever the source: sequence
// numbers without gaps of the relay's making, timestamps that move on by
// the wall time between sources, and VP8 PictureID and TL0PICIDX that go
// on by one at a switch. Each run of packets from one source is a
// segment; a switch starts a new one (rebase). Like LiveKit's RTPMunger,
// numbers are the source's minus an offset fixed at the switch; packets
// the relay chooses to drop (padding only) raise the offset so the next
// ones close the gap, and late packets are numbered around the drops
// remembered since. A late packet from before the segment is dropped.
// A switch that comes in the middle of a frame of the old source (its
// last packet out had no marker bit) leaves one number unused, so the
// subscriber sees a packet missing and drops the cut frame instead of
// taking it whole: with SFrame it could only fail to authenticate.
//
// A munger belongs to one downTrack and is used under its lock.
type munger struct {
	clockRate uint32
	frames    bool // packets make frames ended by the marker bit (video)
	started   bool
	openFrame bool // the last packet out did not end its frame

	seqOffset uint16
	highestIn uint16 // highest source sequence number seen in the segment
	segStart  uint16 // first source sequence number of the segment
	lastOut   uint16
	drops     [dropRing]uint16 // source numbers of dropped packets, in order
	ndrops    int

	tsOffset  uint32
	lastOutTS uint32
	lastAt    time.Time // when the last packet went out

	picOffset uint16
	lastPic   uint16
	havePic   bool
	tl0Offset uint8
	lastTL0   uint8
	haveTL0   bool
}

// numbers are a packet's rewritten sequence number, timestamp and VP8
// PictureID and TL0PICIDX (when the descriptor has them).
type numbers struct {
	seq uint16
	ts  uint32
	pic uint16
	tl0 uint8
}

// rebase starts a segment whose first packet is (seq, ts, d), arriving at
// now: the offsets are chosen so it follows the last packet sent.
func (m *munger) rebase(seq uint16, ts uint32, d vp8Desc, now time.Time) {
	m.highestIn = seq - 1
	m.segStart = seq
	m.ndrops = 0
	if !m.started {
		m.started = true
		m.seqOffset, m.tsOffset, m.picOffset, m.tl0Offset = 0, 0, 0, 0
		return
	}
	m.seqOffset = seq - (m.lastOut + 1)
	if m.frames && m.openFrame {
		m.seqOffset--
	}
	ticks := uint32(now.Sub(m.lastAt).Seconds() * float64(m.clockRate))
	if ticks == 0 {
		ticks = 1
	}
	m.tsOffset = ts - (m.lastOutTS + ticks)
	if d.picBits != 0 {
		want := d.pic
		if m.havePic {
			want = (m.lastPic + 1) & d.picMask()
		}
		m.picOffset = (d.pic - want) & d.picMask()
	}
	if d.tl0Off != 0 {
		want := d.tl0
		if m.haveTL0 {
			want = m.lastTL0 + 1
		}
		m.tl0Offset = d.tl0 - want
	}
}

// next numbers a packet of the current segment, or reports false: drop it.
// paddingOnly packets are always dropped; marker is the packet's marker
// bit (the last packet of a video frame).
func (m *munger) next(seq uint16, ts uint32, paddingOnly, marker bool, d vp8Desc, now time.Time) (numbers, bool) {
	diff := int16(seq - m.highestIn)
	if diff > 0 {
		m.highestIn = seq
		if paddingOnly {
			m.seqOffset++
			m.drops[m.ndrops%dropRing] = seq
			m.ndrops++
			return numbers{}, false
		}
		n := m.translate(seq, ts, m.seqOffset, d)
		m.lastOut, m.lastOutTS, m.lastAt = n.seq, n.ts, now
		m.openFrame = !marker
		if d.picBits != 0 {
			m.lastPic, m.havePic = n.pic, true
		}
		if d.tl0Off != 0 {
			m.lastTL0, m.haveTL0 = n.tl0, true
		}
		return n, true
	}
	if diff == 0 || paddingOnly || int16(seq-m.segStart) < 0 {
		return numbers{}, false
	}
	// A late packet (a retransmission, or reordered): take back one from
	// the offset for each drop after it.
	off := m.seqOffset
	kept := min(m.ndrops, dropRing)
	if m.ndrops > dropRing && int16(m.drops[m.ndrops%dropRing]-seq) > 0 {
		return numbers{}, false // older than the drops remembered
	}
	for i := range kept {
		if int16(m.drops[i]-seq) > 0 {
			off--
		}
	}
	return m.translate(seq, ts, off, d), true
}

func (m *munger) translate(seq uint16, ts uint32, seqOffset uint16, d vp8Desc) numbers {
	n := numbers{seq: seq - seqOffset, ts: ts - m.tsOffset}
	if d.picBits != 0 {
		n.pic = (d.pic - m.picOffset) & d.picMask()
	}
	if d.tl0Off != 0 {
		n.tl0 = d.tl0 - m.tl0Offset
	}
	return n
}

// rewritesDescriptor reports whether packets of the segment need their
// descriptor rewritten (any VP8 offset not zero).
func (m *munger) rewritesDescriptor() bool {
	return m.picOffset != 0 || m.tl0Offset != 0
}
