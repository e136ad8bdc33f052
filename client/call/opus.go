package call

import (
	"fmt"
	"time"
)

// maxOpusDuration is the longest an Opus packet may play (RFC 6716 3.2.5).
const maxOpusDuration = 120 * time.Millisecond

// opusDuration returns how long an Opus packet plays, from its TOC byte and,
// for code 3 packets, its frame count byte (RFC 6716 section 3.1).
func opusDuration(pkt []byte) (time.Duration, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("%w: empty Opus packet", ErrUnsupportedMedia)
	}
	toc := pkt[0]
	cfg := toc >> 3
	var frame time.Duration
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [...]time.Duration{10, 20, 40, 60}[cfg&3] * time.Millisecond
	case cfg < 16: // Hybrid: 10, 20 ms
		frame = [...]time.Duration{10, 20}[cfg&1] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [...]time.Duration{2500, 5000, 10000, 20000}[cfg&3] * time.Microsecond
	}
	var n int
	switch toc & 3 {
	case 0:
		n = 1
	case 1, 2:
		n = 2
	default:
		if len(pkt) < 2 || pkt[1]&0x3f == 0 {
			return 0, fmt.Errorf("%w: Opus code 3 packet without a frame count", ErrUnsupportedMedia)
		}
		n = int(pkt[1] & 0x3f)
	}
	d := frame * time.Duration(n)
	if d > maxOpusDuration {
		return 0, fmt.Errorf("%w: Opus packet of %v, at most %v", ErrUnsupportedMedia, d, maxOpusDuration)
	}
	return d, nil
}
