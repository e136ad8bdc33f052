package call

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Synthetic frame layouts: the bytes that the SFrame clear prefix and RTP
// packetizers read are valid VP8 and Opus, the rest is filler.
const (
	vp8KeyTag     = 0x10 // frame tag byte 0: key frame, version 0, shown
	vp8DeltaTag   = 0x11 // frame tag byte 0: inter frame, version 0, shown
	opusCELT20ms  = 0xfc // TOC: config 31 (CELT fullband 20 ms), stereo, one frame
	vp8KeyMinSize = 10
)

// SyntheticSource yields frames of a fixed size at a fixed rate that look
// like VP8 (a key frame every second) or Opus (20 ms CELT) to everything
// but a decoder: load generation without codecs. It is not safe for
// concurrent use.
type SyntheticSource struct {
	kind  MediaKind
	every time.Duration
	buf   []byte
	n     int
	gop   int
}

// NewSyntheticSource returns a source of kind producing fps frames per
// second at bitrate bit/s. Audio must be 50 fps (20 ms packets).
func NewSyntheticSource(kind MediaKind, bitrate, fps int) (*SyntheticSource, error) {
	if fps <= 0 || fps > 1000 || bitrate <= 0 {
		return nil, fmt.Errorf("%w: synthetic %v at %d bit/s, %d fps", ErrInvalidConfig, kind, bitrate, fps)
	}
	size := bitrate / 8 / fps
	switch kind {
	case Video:
		size = max(size, vp8KeyMinSize)
	case Audio:
		if fps != 50 {
			return nil, fmt.Errorf("%w: synthetic audio is 50 fps (20 ms), not %d", ErrInvalidConfig, fps)
		}
		size = max(size, 1)
	default:
		return nil, fmt.Errorf("%w: media kind %v", ErrInvalidConfig, kind)
	}
	s := &SyntheticSource{kind: kind, every: time.Second / time.Duration(fps), buf: make([]byte, size), gop: fps}
	_, _ = rand.Read(s.buf)
	return s, nil
}

// ReadFrame returns the next frame; it never fails.
func (s *SyntheticSource) ReadFrame() ([]byte, time.Duration, error) {
	b := s.buf
	if s.kind == Audio {
		b[0] = opusCELT20ms
	} else if s.n%s.gop == 0 {
		// Frame tag, start code 9d 01 2a, 320x240.
		copy(b, []byte{vp8KeyTag, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00})
	} else {
		copy(b, []byte{vp8DeltaTag, 0x02, 0x00})
	}
	s.n++
	return b, s.every, nil
}
