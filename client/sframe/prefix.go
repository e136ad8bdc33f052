package sframe

import "fmt"

// Codec names the encoding of a media frame, which decides how many of its
// leading bytes stay in the clear (see PrefixLen).
type Codec uint8

// The codecs Parley sends.
const (
	CodecOpus Codec = 1
	CodecVP8  Codec = 2
)

// Clear-prefix lengths. A VP8 key frame starts with the 3-byte frame tag,
// the 3-byte start code and 4 bytes of dimensions; a delta frame with the
// frame tag alone; an Opus packet with its TOC byte. Browsers' RTP
// packetizers read exactly these bytes (keyframe flag, picture size,
// Opus configuration), so they must stay readable.
const (
	vp8KeyPrefix   = 10
	vp8DeltaPrefix = 3
	opusPrefix     = 1
	maxPrefix      = vp8KeyPrefix
)

// String returns "opus", "vp8" or the number of an unknown codec.
func (c Codec) String() string {
	switch c {
	case CodecOpus:
		return "opus"
	case CodecVP8:
		return "vp8"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

func (c Codec) check() error {
	if c != CodecOpus && c != CodecVP8 {
		return fmt.Errorf("%w: %v", ErrUnsupportedCodec, c)
	}
	return nil
}

// PrefixLen returns how many leading bytes of frame stay in the clear: the
// codec's prefix length, or all of frame if it is shorter than that.
func (c Codec) PrefixLen(frame []byte) int {
	if len(frame) == 0 {
		return 0
	}
	return min(c.prefixFor(frame[0]), len(frame))
}

// prefixFor is the full prefix length a frame starting with first has. For
// VP8 it reads the P bit (bit 0 of the frame tag): 0 for a key frame.
func (c Codec) prefixFor(first byte) int {
	switch c {
	case CodecVP8:
		if first&0x01 == 0 {
			return vp8KeyPrefix
		}
		return vp8DeltaPrefix
	case CodecOpus:
		return opusPrefix
	}
	return 0
}
