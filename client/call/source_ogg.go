package call

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// opusGranuleRate is the rate of Ogg Opus granule positions (RFC 7845).
const opusGranuleRate = 48000

// OggSource loops the Opus packets of an Ogg file. Each page must hold
// exactly one packet, as ffmpeg writes with -page_duration 20000 and pion's
// oggwriter always does; a packet lasts as its TOC byte says. It is not
// safe for concurrent use.
type OggSource struct {
	f        *os.File
	r        *oggreader.OggReader
	preSkip  uint64 // samples the first page may count beyond its packet
	granule  uint64 // granule position of the previous page
	first    bool   // the next audio page is the first of the pass
	sawAudio bool   // the current pass has yielded a packet
}

// NewOggSource opens an Ogg Opus file.
func NewOggSource(path string) (*OggSource, error) {
	f, err := os.Open(path) //nolint:gosec // the caller names its media file
	if err != nil {
		return nil, err
	}
	s := &OggSource{f: f}
	if err := s.rewind(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return s, nil
}

func (s *OggSource) rewind() error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r, h, err := oggreader.NewWith(s.f)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsupportedMedia, s.f.Name(), err)
	}
	s.r, s.preSkip, s.granule, s.first, s.sawAudio = r, uint64(h.PreSkip), 0, true, false
	return nil
}

// ReadFrame returns the next Opus packet, starting the file again after
// its end.
func (s *OggSource) ReadFrame() ([]byte, time.Duration, error) {
	for {
		page, h, err := s.r.ParseNextPage()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !s.sawAudio {
				return nil, 0, fmt.Errorf("%w: %s has no Opus packets", ErrUnsupportedMedia, s.f.Name())
			}
			if err := s.rewind(); err != nil {
				return nil, 0, err
			}
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s: %v", ErrUnsupportedMedia, s.f.Name(), err)
		}
		if len(page) == 0 || bytes.HasPrefix(page, []byte("OpusTags")) || bytes.HasPrefix(page, []byte("OpusHead")) {
			continue
		}
		d, err := opusDuration(page)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", s.f.Name(), err)
		}
		if err := s.checkOnePacket(h.GranulePosition, d); err != nil {
			return nil, 0, err
		}
		s.sawAudio = true
		return page, d, nil
	}
}

// checkOnePacket refuses a page whose granule position advanced by more
// than its first packet plays: it holds more than one packet. The first
// audio page may also count the encoder's pre-skip.
func (s *OggSource) checkOnePacket(granule uint64, d time.Duration) error {
	if granule == ^uint64(0) {
		return fmt.Errorf("%w: %s: a page ends inside a packet", ErrUnsupportedMedia, s.f.Name())
	}
	limit := uint64(d * opusGranuleRate / time.Second) //nolint:gosec // d <= 120 ms
	if s.first {
		limit += s.preSkip
	}
	if granule > s.granule && granule-s.granule > limit {
		return fmt.Errorf("%w: %s: a page holds %d samples, its first packet %d; write one packet per page (ffmpeg -page_duration 20000)",
			ErrUnsupportedMedia, s.f.Name(), granule-s.granule, limit)
	}
	s.granule, s.first = granule, false
	return nil
}

// Close closes the file.
func (s *OggSource) Close() error { return s.f.Close() }
