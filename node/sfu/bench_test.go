package sfu_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// The benchmarks' stream: about 300 kbit/s of video, 30 frames a second
// of 1250 bytes, each sent as two packets (sfutest splits at 1000).
const (
	benchFPS       = 30
	benchFrameSize = 1250
	benchPackets   = 2 // per frame
)

// BenchmarkRelayForward measures the relay's cost per forwarded packet
// and down-track: one publisher's video through the relay to K
// subscribers, paced in real time. One iteration is one frame. CPU is
// the process's (relay, publisher and subscribers all run in it), so
// compare with BenchmarkBarePionForward, which moves the same packets
// through a bare pion read-then-WriteRTP loop.
func BenchmarkRelayForward(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			r, err := sfu.New(sfu.Config{SettingEngine: sfutest.LoopbackSettingEngine(), LoggerFactory: sfutest.QuietLoggers()})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = r.Run(ctx); close(done) }()
			b.Cleanup(func() { cancel(); <-done })
			join := func(opts sfutest.Options) *sfutest.Client {
				c, err := sfutest.NewClient(opts)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = c.Close() })
				jctx, jcancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer jcancel()
				if err := sfutest.Join(jctx, r, []byte("bench"), c); err != nil {
					b.Fatal(err)
				}
				return c
			}
			pub := join(sfutest.Options{Member: "pub/dev", Camera: true})
			var subs []*sfutest.Client
			for i := range k {
				subs = append(subs, join(sfutest.Options{Member: fmt.Sprintf("sub%02d/dev", i), VideoSlots: 1}))
			}
			runForward(b, pub, subs)
			if st := r.Stats(); st.DownTracks != k {
				b.Fatalf("%d down-tracks, want %d", st.DownTracks, k)
			}
		})
	}
}

// BenchmarkBarePionForward is the baseline: the same publisher and
// subscribers (sfutest clients, same offers) connected to a forwarder
// that does only what pion's examples do — ReadRTP from the published
// track and WriteRTP to one TrackLocalStaticRTP per subscriber — on the
// relay's own pion API (same codecs and interceptors).
func BenchmarkBarePionForward(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			se := sfutest.LoopbackSettingEngine()
			api, err := sfu.NewRelayAPI(se)
			if err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var downs []*webrtc.TrackLocalStaticRTP
			var wg sync.WaitGroup
			b.Cleanup(wg.Wait)
			answer := func(c *sfutest.Client, setup func(*webrtc.PeerConnection)) {
				pc, err := api.NewPeerConnection(webrtc.Configuration{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = pc.Close() })
				b.Cleanup(func() { _ = c.Close() })
				setup(pc)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				offer, err := c.Offer(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
					b.Fatal(err)
				}
				ans, err := pc.CreateAnswer(nil)
				if err != nil {
					b.Fatal(err)
				}
				gathered := webrtc.GatheringCompletePromise(pc)
				if err := pc.SetLocalDescription(ans); err != nil {
					b.Fatal(err)
				}
				<-gathered
				if err := c.Accept(pc.LocalDescription().SDP); err != nil {
					b.Fatal(err)
				}
				if err := c.WaitConnected(ctx); err != nil {
					b.Fatal(err)
				}
			}
			pub, err := sfutest.NewClient(sfutest.Options{Member: "pub/dev", Camera: true})
			if err != nil {
				b.Fatal(err)
			}
			answer(pub, func(pc *webrtc.PeerConnection) {
				pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
					wg.Add(1)
					defer wg.Done()
					for {
						p, _, err := t.ReadRTP()
						if err != nil {
							return
						}
						mu.Lock()
						list := downs
						mu.Unlock()
						for _, d := range list {
							_ = d.WriteRTP(p)
						}
					}
				})
			})
			var subs []*sfutest.Client
			for i := range k {
				c, err := sfutest.NewClient(sfutest.Options{Member: fmt.Sprintf("sub%02d/dev", i), VideoSlots: 1})
				if err != nil {
					b.Fatal(err)
				}
				answer(c, func(pc *webrtc.PeerConnection) {
					track, err := webrtc.NewTrackLocalStaticRTP(sfu.VP8Capability, "rv0", "bare")
					if err != nil {
						b.Fatal(err)
					}
					tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
					if err != nil {
						b.Fatal(err)
					}
					if err := tr.SetMid("rv0"); err != nil {
						b.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							if _, _, err := tr.Sender().ReadRTCP(); err != nil {
								return
							}
						}
					}()
					mu.Lock()
					downs = append(downs, track)
					mu.Unlock()
				})
				subs = append(subs, c)
			}
			runForward(b, pub, subs)
		})
	}
}

// runForward warms the path up with key frames until every subscriber
// receives, then sends b.N frames paced at benchFPS, waits until every
// subscriber has them, and reports CPU per packet and down-track and CPU
// as a share of one core over the run.
func runForward(b *testing.B, pub *sfutest.Client, subs []*sfutest.Client) {
	warm := time.Now()
	deadline := warm.Add(20 * time.Second)
	for {
		if err := pub.SendFrame("", true, benchFrameSize); err != nil {
			b.Fatal(err)
		}
		all := true
		for _, s := range subs {
			if len(s.Packets("rv0", warm)) == 0 {
				all = false
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("subscribers get nothing")
		}
		time.Sleep(time.Second / benchFPS)
	}
	time.Sleep(200 * time.Millisecond)

	// What the process burns with every connection up and no media:
	// subtracted, so ns/pkt/downtrack is the cost of the packets alone.
	idleFrom, idleCPU := time.Now(), cpuTime()
	time.Sleep(time.Second)
	idleRate := float64(cpuTime()-idleCPU) / float64(time.Since(idleFrom))

	before := make([]int, len(subs))
	for i, s := range subs {
		before[i] = s.Received("rv0")
	}
	start := time.Now()
	cpu0 := cpuTime()
	b.ResetTimer()
	tick := time.NewTicker(time.Second / benchFPS)
	for range b.N {
		<-tick.C
		if err := pub.SendFrame("", false, benchFrameSize); err != nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	want := b.N * benchPackets
	for i, s := range subs {
		for s.Received("rv0")-before[i] < want && time.Since(start) < time.Duration(b.N+30)*time.Second/benchFPS {
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	cpu, wall := cpuTime()-cpu0, time.Since(start)
	got := 0
	for i, s := range subs {
		got += s.Received("rv0") - before[i]
	}
	packets := float64(want * len(subs))
	b.ReportMetric((float64(cpu)-idleRate*float64(wall))/packets, "ns/pkt/downtrack")
	b.ReportMetric(float64(cpu)/packets, "ns/pkt/downtrack-gross")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
	b.ReportMetric(100*idleRate, "idle-cpu%")
	b.ReportMetric(float64(got)/packets, "delivered")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
