package call

import (
	"fmt"
	"time"

	"github.com/parleynet/parley/client/sframe"
)

// MediaKind is one of a member's tracks.
type MediaKind uint8

// The tracks every member's connections carry. A shared screen is a
// second VP8 track beside the camera, under the same SFrame key and
// counter as the member's other tracks; receivers tell it from the camera
// by its track ID (its String), which the signed offer carries.
const (
	Video  MediaKind = 1 // VP8, the camera
	Audio  MediaKind = 2 // Opus
	Screen MediaKind = 3 // VP8, a shared screen
)

// mediaKinds are the tracks of every connection, in the order they are
// added (so that every offer has its m-lines in one order).
var mediaKinds = []MediaKind{Video, Audio, Screen}

// String returns "video", "audio", "screen" or the number; it is also the
// track's ID on the wire.
func (k MediaKind) String() string {
	switch k {
	case Video:
		return "video"
	case Audio:
		return "audio"
	case Screen:
		return "screen"
	}
	return fmt.Sprintf("MediaKind(%d)", uint8(k))
}

// IsVideo reports whether k is a VP8 track (camera or screen).
func (k MediaKind) IsVideo() bool { return k == Video || k == Screen }

func (k MediaKind) codec() sframe.Codec {
	if k.IsVideo() {
		return sframe.CodecVP8
	}
	return sframe.CodecOpus
}

// Source yields the encoded frames a member sends on one track: VP8 frames
// for Video, Opus packets for Audio. The engine calls ReadFrame from one
// goroutine and paces the frames in real time by their durations. A source
// that returns an error stops its track. The engine does not close sources.
type Source interface {
	// ReadFrame returns the next frame and how long it plays. The bytes
	// are the engine's only until the next call.
	ReadFrame() (frame []byte, duration time.Duration, err error)
}

// Frame is one decrypted media frame of a remote member.
type Frame struct {
	From      Member
	Kind      MediaKind
	Epoch     uint64 // the epoch the frame was encrypted in
	KID       uint64 // SFrame key ID (sender index << 8 | epoch mod 256)
	Counter   uint64 // SFrame counter
	Timestamp uint32 // RTP timestamp (90 kHz video, 48 kHz audio)
	// Data is the encoded frame, byte for byte what the sender encoded; it
	// is valid only during WriteFrame.
	Data []byte
	// Sealed is the frame as it arrived, still SFrame-encrypted (clear
	// prefix, header, ciphertext, tag): what a sink forwards to a party
	// that decrypts for itself (the browser page). Valid only during
	// WriteFrame.
	Sealed []byte
}

// Sink consumes the decrypted frames of one remote track. WriteFrame is
// called from one goroutine; Close once, when the track ends.
type Sink interface {
	WriteFrame(f Frame) error
	Close() error
}

// SinkFactory makes the sink for a remote member's track when it starts.
// The engine calls it once per track and connection; a returned error
// drops that track's frames after decryption.
type SinkFactory func(from Member, kind MediaKind) (Sink, error)

// DiscardSinks returns a SinkFactory whose sinks drop every frame: a
// headless participant that only counts.
func DiscardSinks() SinkFactory {
	return func(Member, MediaKind) (Sink, error) { return discard{}, nil }
}

type discard struct{}

func (discard) WriteFrame(Frame) error { return nil }
func (discard) Close() error           { return nil }
