package sfu

// vp8Desc is what the relay reads of a VP8 RTP payload descriptor
// (RFC 7741 section 4.2) — the only part of a video payload it parses,
// and the only bytes of it it may rewrite.
//
//	 0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|X|R|N|S|R| PID | (required)
//	+-+-+-+-+-+-+-+-+
//	|I|L|T|K| RSV   | (X)
//	+-+-+-+-+-+-+-+-+
//	|M| PictureID   | (I), M: one more byte of PictureID
//	+-+-+-+-+-+-+-+-+
//	|   PictureID   | (M)
//	+-+-+-+-+-+-+-+-+
//	|   TL0PICIDX   | (L)
//	+-+-+-+-+-+-+-+-+
//	|TID|Y| KEYIDX  | (T or K)
//	+-+-+-+-+-+-+-+-+
type vp8Desc struct {
	size     int    // bytes of descriptor; the VP8 payload starts here
	keyStart bool   // first packet of a key frame
	picOff   int    // offset of the PictureID, 0 when absent
	picBits  int    // 7 or 15, 0 when absent
	pic      uint16 // PictureID
	tl0Off   int    // offset of TL0PICIDX, 0 when absent
	tl0      uint8
}

// parseVP8 reads the descriptor of payload. ok is false when the
// descriptor is truncated; such a packet is still forwarded, untouched.
func parseVP8(payload []byte) (d vp8Desc, ok bool) {
	if len(payload) < 1 {
		return d, false
	}
	b0 := payload[0]
	i := 1
	if b0&0x80 != 0 { // X
		if len(payload) < 2 {
			return d, false
		}
		b1 := payload[1]
		i = 2
		if b1&0x80 != 0 { // I
			if len(payload) < i+1 {
				return d, false
			}
			d.picOff = i
			if payload[i]&0x80 != 0 { // M
				if len(payload) < i+2 {
					return d, false
				}
				d.picBits = 15
				d.pic = uint16(payload[i]&0x7f)<<8 | uint16(payload[i+1])
				i += 2
			} else {
				d.picBits = 7
				d.pic = uint16(payload[i] & 0x7f)
				i++
			}
		}
		if b1&0x40 != 0 { // L
			if len(payload) < i+1 {
				return d, false
			}
			d.tl0Off = i
			d.tl0 = payload[i]
			i++
		}
		if b1&0x30 != 0 { // T or K
			if len(payload) < i+1 {
				return d, false
			}
			i++
		}
	}
	d.size = i
	// A key frame starts in the packet that begins partition 0 (S=1,
	// PID=0), whose first VP8 payload byte has the inverse key frame flag
	// P (bit 0) clear (RFC 6386 section 9.1). That byte stays in the clear
	// under SFrame by design.
	d.keyStart = b0&0x10 != 0 && b0&0x07 == 0 && len(payload) > i && payload[i]&0x01 == 0
	return d, true
}

// putPictureID writes pic into the descriptor at d.picOff in d's width.
func (d vp8Desc) putPictureID(payload []byte, pic uint16) {
	if d.picBits == 15 {
		payload[d.picOff] = 0x80 | byte(pic>>8)&0x7f
		payload[d.picOff+1] = byte(pic)
		return
	}
	payload[d.picOff] = byte(pic) & 0x7f
}

// picMask is the PictureID wrap of d's width.
func (d vp8Desc) picMask() uint16 {
	if d.picBits == 15 {
		return 0x7fff
	}
	return 0x7f
}
