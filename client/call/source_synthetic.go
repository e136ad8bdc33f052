package call

import (
	"crypto/rand"
	"fmt"
	"sync/atomic"
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
// like VP8 (a key frame every second, and on request) or Opus (20 ms CELT)
// to everything but a decoder: load generation without codecs. An
// adaptive one (NewAdaptiveSyntheticSource) sizes its frames to the target
// bitrate the engine sets, up to its maximum, as an encoder following
// congestion control would. It is not safe for concurrent use.
type SyntheticSource struct {
	kind     MediaKind
	every    time.Duration
	fps      int
	buf      []byte
	size     int // bytes of the next frame
	n        int
	gop      int
	forceKey bool
	adaptive bool
	maxRate  int
	level    atomic.Uint32 // RFC 6464 -dBov of audio frames (AudioLevel)
}

// syntheticLevel is a synthetic audio source's level until SetAudioLevel:
// someone speaking.
const syntheticLevel = 30

// SetAudioLevel sets how loud the frames of a synthetic audio source are
// said to be, in -dBov (0 loudest, 127 silence), as the relay reads it
// from the RFC 6464 header extension. It is safe to call while the engine
// reads the source.
func (s *SyntheticSource) SetAudioLevel(dBov uint8) { s.level.Store(uint32(min(dBov, levelSilence))) }

// AudioLevel implements AudioLeveler.
func (s *SyntheticSource) AudioLevel() uint8 { return uint8(s.level.Load()) } //nolint:gosec // ≤ 127

// NewSyntheticSource returns a source of kind producing fps frames per
// second at bitrate bit/s. Audio must be 50 fps (20 ms packets).
func NewSyntheticSource(kind MediaKind, bitrate, fps int) (*SyntheticSource, error) {
	if fps <= 0 || fps > 1000 || bitrate <= 0 {
		return nil, fmt.Errorf("%w: synthetic %v at %d bit/s, %d fps", ErrInvalidConfig, kind, bitrate, fps)
	}
	switch kind {
	case Video:
	case Audio:
		if fps != 50 {
			return nil, fmt.Errorf("%w: synthetic audio is 50 fps (20 ms), not %d", ErrInvalidConfig, fps)
		}
	default:
		return nil, fmt.Errorf("%w: media kind %v", ErrInvalidConfig, kind)
	}
	s := &SyntheticSource{kind: kind, every: time.Second / time.Duration(fps), fps: fps, gop: fps, maxRate: bitrate}
	s.level.Store(syntheticLevel)
	s.size = s.frameSize(bitrate)
	s.buf = make([]byte, s.size)
	_, _ = rand.Read(s.buf)
	return s, nil
}

// NewAdaptiveSyntheticSource is NewSyntheticSource for video whose frames
// follow SetTargetBitrate, at most maxBitrate.
func NewAdaptiveSyntheticSource(maxBitrate, fps int) (*SyntheticSource, error) {
	s, err := NewSyntheticSource(Video, maxBitrate, fps)
	if err == nil {
		s.adaptive = true
	}
	return s, err
}

func (s *SyntheticSource) frameSize(bitrate int) int {
	size := bitrate / 8 / s.fps
	if s.kind == Video {
		return max(size, vp8KeyMinSize)
	}
	return max(size, 1)
}

// SetTargetBitrate implements BitrateController: an adaptive source sizes
// its next frames to bitsPerSecond, at most its maximum; others ignore it.
func (s *SyntheticSource) SetTargetBitrate(bitsPerSecond int) {
	if !s.adaptive {
		return
	}
	s.size = s.frameSize(min(bitsPerSecond, s.maxRate))
	if s.size > len(s.buf) {
		s.buf = make([]byte, s.size)
		_, _ = rand.Read(s.buf)
	}
}

// Bitrate returns the bitrate the source currently produces.
func (s *SyntheticSource) Bitrate() int { return s.size * 8 * s.fps }

// RequestKeyframe implements KeyframeRequester: the next video frame is a
// key frame.
func (s *SyntheticSource) RequestKeyframe() { s.forceKey = true }

// ReadFrame returns the next frame; it never fails.
func (s *SyntheticSource) ReadFrame() ([]byte, time.Duration, error) {
	b := s.buf[:s.size]
	if s.kind == Audio {
		b[0] = opusCELT20ms
	} else if s.n%s.gop == 0 || s.forceKey {
		// Frame tag, start code 9d 01 2a, 320x240.
		copy(b, []byte{vp8KeyTag, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00})
		s.forceKey = false
		s.n = 0
	} else {
		copy(b, []byte{vp8DeltaTag, 0x02, 0x00})
	}
	s.n++
	return b, s.every, nil
}
