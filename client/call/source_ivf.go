package call

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// Bounds on a frame duration read from a file, so a broken timestamp can
// neither stall nor flood a track.
const (
	minFrameDuration = time.Millisecond
	maxFrameDuration = time.Second
)

// IVFSource loops the VP8 frames of an IVF file. A frame lasts until the
// next frame's timestamp, in the file's time base; the last frame of the
// file lasts as long as the one before it. It is not safe for concurrent
// use.
type IVFSource struct {
	f       *os.File
	r       *ivfreader.IVFReader
	tick    time.Duration // one unit of the file's time base
	scale   float64       // numerator / denominator of the time base
	next    []byte
	nextPTS uint64 // as ivfreader reports it (see ReadFrame)
	wrapped bool   // next is the file's first frame again
	lastDur time.Duration
	// rewound is when RequestKeyframe last started the file over.
	rewound time.Time
	keyReq  bool
}

// ivfKeyframeEvery bounds how often a key-frame request starts an IVF
// file over: its only key frame may be its first, and a lossy link asking
// every half second must not pin the video to the file's first second.
const ivfKeyframeEvery = 2 * time.Second

// RequestKeyframe implements KeyframeRequester: the next frame is the
// file's first, a key frame, unless the file was started over less than
// ivfKeyframeEvery ago. A file cannot re-encode a delta frame as a key
// frame; starting over is the honest way to give a decoder one.
func (s *IVFSource) RequestKeyframe() { s.keyReq = true }

// NewIVFSource opens a VP8 IVF file. It fails with ErrUnsupportedMedia for
// another codec, a zero time base or a file without frames.
func NewIVFSource(path string) (*IVFSource, error) {
	f, err := os.Open(path) //nolint:gosec // the caller names its media file
	if err != nil {
		return nil, err
	}
	s := &IVFSource{f: f}
	if err := s.rewind(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return s, nil
}

// rewind reads the file header and the first frame.
func (s *IVFSource) rewind() error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r, h, err := ivfreader.NewWith(s.f)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsupportedMedia, s.f.Name(), err)
	}
	if h.FourCC != "VP80" {
		return fmt.Errorf("%w: %s holds %q, want VP80", ErrUnsupportedMedia, s.f.Name(), h.FourCC)
	}
	if h.TimebaseDenominator == 0 || h.TimebaseNumerator == 0 {
		return fmt.Errorf("%w: %s has time base %d/%d", ErrUnsupportedMedia, s.f.Name(), h.TimebaseNumerator, h.TimebaseDenominator)
	}
	s.r = r
	s.scale = float64(h.TimebaseNumerator) / float64(h.TimebaseDenominator)
	s.tick = time.Duration(float64(time.Second) * s.scale)
	frame, fh, err := r.ParseNextFrame()
	if err != nil {
		return fmt.Errorf("%w: %s: no frame: %v", ErrUnsupportedMedia, s.f.Name(), err)
	}
	s.next, s.nextPTS, s.wrapped = frame, fh.Timestamp, true
	return nil
}

// ReadFrame returns the next frame, starting the file again after its end.
func (s *IVFSource) ReadFrame() ([]byte, time.Duration, error) {
	if s.keyReq {
		s.keyReq = false
		if now := time.Now(); now.Sub(s.rewound) >= ivfKeyframeEvery && !s.wrapped {
			s.rewound = now
			if err := s.rewind(); err != nil {
				return nil, 0, err
			}
		}
	}
	frame, pts := s.next, s.nextPTS
	next, fh, err := s.r.ParseNextFrame()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if err := s.rewind(); err != nil {
			return nil, 0, err
		}
	case err != nil:
		return nil, 0, fmt.Errorf("%w: %s: %v", ErrUnsupportedMedia, s.f.Name(), err)
	default:
		s.next, s.nextPTS, s.wrapped = next, fh.Timestamp, false
	}
	d := s.lastDur
	if !s.wrapped && s.nextPTS > pts {
		// ivfreader reports pts × denominator / numerator; undo that, then
		// count in time-base units.
		d = time.Duration(float64(s.nextPTS-pts) * s.scale * s.scale * float64(time.Second))
	}
	if d == 0 {
		d = s.tick
	}
	d = min(max(d, minFrameDuration), maxFrameDuration)
	s.lastDur = d
	return frame, d, nil
}

// Close closes the file.
func (s *IVFSource) Close() error { return s.f.Close() }
