package call

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// vp8StartDescriptor is the one-byte RTP VP8 payload descriptor (RFC 7741)
// of a whole frame: S set, partition 0. The IVF writer reads frames as RTP.
const vp8StartDescriptor = 0x10

// IVFSink writes decrypted VP8 frames to an IVF file with a 90 kHz time
// base. Frames before the first key frame are skipped, since no decoder
// could use them; the header takes its picture size from that key frame.
type IVFSink struct {
	f   *os.File
	w   *ivfwriter.IVFWriter
	pkt rtp.Packet
}

// NewIVFSink creates (or truncates) the file at path.
func NewIVFSink(path string) (*IVFSink, error) {
	f, err := os.Create(path) //nolint:gosec // the caller names its output file
	if err != nil {
		return nil, err
	}
	return &IVFSink{f: f}, nil
}

// WriteFrame appends a VP8 frame.
func (s *IVFSink) WriteFrame(fr Frame) error {
	if s.w == nil {
		w, h, ok := vp8KeyFrameSize(fr.Data)
		if !ok {
			return nil
		}
		iw, err := ivfwriter.NewWith(s.f, ivfwriter.WithCodec(webrtc.MimeTypeVP8),
			ivfwriter.WithWidthAndHeight(w, h), ivfwriter.WithFrameRate(1, 90000), ivfwriter.WithDirectPTS())
		if err != nil {
			return err
		}
		s.w = iw
	}
	s.pkt.Timestamp = fr.Timestamp
	s.pkt.Marker = true
	s.pkt.Payload = append(append(s.pkt.Payload[:0], vp8StartDescriptor), fr.Data...)
	return s.w.WriteRTP(&s.pkt)
}

// Close fixes the header's frame count and closes the file.
func (s *IVFSink) Close() error {
	if s.w != nil {
		return s.w.Close()
	}
	return s.f.Close()
}

// vp8KeyFrameSize returns the picture size of a VP8 key frame (RFC 6386
// section 9.1) and false for anything else.
func vp8KeyFrameSize(b []byte) (w, h uint16, ok bool) {
	if len(b) < 10 || b[0]&0x01 != 0 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return 0, 0, false
	}
	return (uint16(b[6]) | uint16(b[7])<<8) & 0x3fff, (uint16(b[8]) | uint16(b[9])<<8) & 0x3fff, true
}

// OggSink writes decrypted Opus packets to an Ogg file, one packet per
// page. The channel count in its header comes from the first packet's TOC.
type OggSink struct {
	path string
	w    *oggwriter.OggWriter
	pkt  rtp.Packet
}

// NewOggSink returns a sink that creates the file at path with the first
// packet.
func NewOggSink(path string) *OggSink { return &OggSink{path: path} }

// WriteFrame appends an Opus packet.
func (s *OggSink) WriteFrame(fr Frame) error {
	if len(fr.Data) == 0 {
		return nil
	}
	if s.w == nil {
		channels := uint16(1)
		if fr.Data[0]&0x04 != 0 {
			channels = 2
		}
		w, err := oggwriter.New(s.path, opusGranuleRate, channels)
		if err != nil {
			return err
		}
		s.w = w
	}
	s.pkt.Timestamp = fr.Timestamp
	s.pkt.Payload = fr.Data
	return s.w.WriteRTP(&s.pkt)
}

// Close ends the stream and closes the file.
func (s *OggSink) Close() error {
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}

// FileSinks returns a SinkFactory that writes each remote track to dir as
// <user>_<device>_<n>.ivf (camera), _<n>.screen.ivf or .ogg, n counting the tracks this factory made
// (a reconnect makes new tracks). Characters other than letters, digits,
// '.', '-' and '_' in IDs become '_'.
func FileSinks(dir string) SinkFactory {
	var n atomic.Uint64
	return func(from Member, kind MediaKind) (Sink, error) {
		name := fmt.Sprintf("%s_%s_%d", safeName(from.UserID), safeName(from.DeviceID), n.Add(1))
		switch kind {
		case Video, Screen:
			if kind == Screen {
				name += ".screen"
			}
			return NewIVFSink(filepath.Join(dir, name+".ivf"))
		case Audio:
			return NewOggSink(filepath.Join(dir, name+".ogg")), nil
		}
		return nil, errors.New("call: no file sink for " + kind.String())
	}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
