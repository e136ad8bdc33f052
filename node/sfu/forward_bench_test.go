package sfu

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// BenchmarkForwardLogic is the relay's own work per packet and
// down-track, without pion's: parsing the descriptor once, then for each
// slot the switch check, renumbering (PictureID rewritten, as after a
// switch) and the header copy, down to a WriteRTP on a track with no
// connection bound. BenchmarkRelayForward and BenchmarkBarePionForward
// measure the whole path through pion and the network.
func BenchmarkForwardLogic(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			r := &Relay{cfg: Config{}.withDefaults()}
			s := &session{relay: r}
			first := &source{relay: r, owner: s, kind: kindCamera}
			src := &source{relay: r, owner: &session{relay: r}, kind: kindCamera}
			frame := func(pic uint16, key bool) *rtp.Packet {
				body := make([]byte, 1000)
				body[0] = 0x11
				if key {
					body[0] = 0x10
				}
				desc := []byte{0x90, 0xc0, 0x80 | byte(pic>>8), byte(pic), 7}
				return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: pic * 3, Timestamp: uint32(pic) * 3000}, Payload: append(desc, body...)}
			}
			now := time.Now()
			for range k {
				track, err := webrtc.NewTrackLocalStaticRTP(VP8Capability, "rv0", "bench")
				if err != nil {
					b.Fatal(err)
				}
				d := newDownTrack(s, "rv0", kindCamera, track, nil)
				d.setTarget(first, now)
				first.handle(frame(100, true))
				d.setTarget(src, now)
			}
			src.handle(frame(9000, true))
			p := frame(9001, false)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p.SequenceNumber++
				src.handle(p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/pkt/downtrack")
		})
	}
}
