package sfutest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Tag is what a synthetic payload says about itself: who sent it, on
// which stream, which frame, and whether it is a key frame. The relay
// never reads it (it is past the VP8 descriptor or in the Opus payload,
// where the relay must not look); tests do.
type Tag struct {
	Member string // "user/device"
	Kind   string // "a" audio, "v" camera, "s" screen
	Layer  string // simulcast RID, "" otherwise
	Frame  int
	Part   int // packet index within the frame
	Key    bool
	Size   int // bytes of the payload
}

// Payload is the synthetic media payload of a tag, t.Size bytes long
// (longer if the tag needs it). For video it is the VP8 payload after the
// descriptor: its first byte carries the key frame flag (bit 0 clear on a
// key frame's first packet) as a real VP8 frame would.
func Payload(t Tag) []byte {
	head := fmt.Sprintf("%s|%s|%s|%d|%d|%t|%d|", t.Member, t.Kind, t.Layer, t.Frame, t.Part, t.Key, t.Size)
	size := t.Size
	var b bytes.Buffer
	if t.Kind != "a" {
		first := byte(0x11) // show_frame, P=1: interframe
		if t.Key && t.Part == 0 {
			first = 0x10
		}
		b.WriteByte(first)
	}
	b.WriteString(head)
	for i := 0; b.Len() < size; i++ {
		b.WriteByte(byte(t.Frame*31 + t.Part*7 + i*13 + len(t.Member)))
	}
	return b.Bytes()
}

// ParseTag reads the tag of a payload made by Payload. For video, p is
// the VP8 payload after the descriptor.
func ParseTag(p []byte, video bool) (Tag, bool) {
	if video {
		if len(p) < 1 {
			return Tag{}, false
		}
		p = p[1:]
	}
	fields := strings.SplitN(string(p), "|", 8)
	if len(fields) < 8 {
		return Tag{}, false
	}
	frame, err1 := strconv.Atoi(fields[3])
	part, err2 := strconv.Atoi(fields[4])
	key, err3 := strconv.ParseBool(fields[5])
	size, err4 := strconv.Atoi(fields[6])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Tag{}, false
	}
	return Tag{Member: fields[0], Kind: fields[1], Layer: fields[2], Frame: frame, Part: part, Key: key, Size: size}, true
}

// Intact reports whether p, received, is byte for byte the payload its
// tag says was sent.
func Intact(p []byte, video bool) bool {
	t, ok := ParseTag(p, video)
	return ok && bytes.Equal(p, Payload(t))
}
