//go:build bench

package bench

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

const (
	// setupRuns is the number of measured connections of each kind.
	setupRuns = 20
	// setupWANDelay is the one-way delay of each LAN's link to the
	// internet: 40 ms round trips between members, and to the relay.
	setupWANDelay = 10 * time.Millisecond
	setupLimit    = 30 * time.Second
)

// BenchmarkCallSetup measures, side by side, how long two members take to
// set up a call directly and through a node's TURN relay, on pion's
// virtual internet: each member on its own LAN behind a NAT, each LAN
// 10 ms from the internet, the node's STUN/TURN server (node/turn) on the
// internet. Direct: endpoint-independent NATs, which STUN sees through.
// Relayed: symmetric NATs, which only the relay gets through. Both
// members get the relay's credentials (as from their nodes) and the
// default ICE timing of call.DefaultSettingEngine; signalling is
// in-memory, so the figure is ICE, DTLS and the first frames.
//
// One run: a fresh pair of engines and internet; the clock starts when
// both have the epoch (SetEpoch) and stops when each has decrypted a
// video frame of the other. It reports the median and 90th percentile
// of each kind and the median difference.
func BenchmarkCallSetup(b *testing.B) {
	for range b.N {
		direct := setupTimes(b, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT})
		relayed := setupTimes(b, calltest.LANConfig{NAT: calltest.SymmetricNAT})
		d50, d90 := percentile(direct, 50), percentile(direct, 90)
		r50, r90 := percentile(relayed, 50), percentile(relayed, 90)
		b.ReportMetric(ms(d50), "direct-p50-ms")
		b.ReportMetric(ms(d90), "direct-p90-ms")
		b.ReportMetric(ms(r50), "relayed-p50-ms")
		b.ReportMetric(ms(r90), "relayed-p90-ms")
		b.ReportMetric(ms(r50-d50), "relayed-extra-ms")
		b.ReportMetric(setupRuns, "runs")
		b.Logf("call set-up over %d runs each: direct p50 %v p90 %v; relayed p50 %v p90 %v",
			setupRuns, d50.Round(time.Millisecond), d90.Round(time.Millisecond), r50.Round(time.Millisecond), r90.Round(time.Millisecond))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// setupTimes runs setupRuns calls between two LANs behind nat.
func setupTimes(b *testing.B, nat calltest.LANConfig) []time.Duration {
	b.Helper()
	out := make([]time.Duration, 0, setupRuns)
	for range setupRuns {
		out = append(out, setupOnce(b, nat))
	}
	return out
}

func setupOnce(b *testing.B, lc calltest.LANConfig) time.Duration {
	b.Helper()
	// Each run gets its own internet, stopped when the run ends.
	var d time.Duration
	func() {
		tb := &cleanupTB{B: b}
		defer tb.cleanup()
		lc.Link = calltest.Link{Delay: setupWANDelay}
		in := calltest.NewInternet(tb, lc, lc)
		srv := turntest.Start(tb, in.WAN, "203.0.113.1", turn.Config{})
		netw := calltest.NewNetwork()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a, bb := calltest.NewDevice(b, "alice", "laptop"), calltest.NewDevice(b, "bob", "phone")
		engines := make([]*call.Engine, 0, 2)
		recs := []*calltest.Recorder{calltest.NewRecorder(), calltest.NewRecorder()}
		done := make(chan error, 2)
		for i, dev := range []*calltest.Device{a, bb} {
			cfg := dev.Config(netw.Endpoint(dev.Member))
			cfg.SettingEngine = in.LANs[i].SettingEngine(tb)
			subject := dev.Member.String()
			cfg.Reach.Relays = func(context.Context) ([]webrtc.ICEServer, time.Time, error) {
				c := srv.Issue(subject)
				return []webrtc.ICEServer{{URLs: srv.URLs(), Username: c.Username, Credential: c.Password}}, c.Expires, nil
			}
			video, err := call.NewSyntheticSource(call.Video, 300_000, 30)
			if err != nil {
				b.Fatal(err)
			}
			audio, err := call.NewSyntheticSource(call.Audio, 32_000, 50)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Video, cfg.Audio, cfg.Sinks = video, audio, recs[i].Sinks()
			e, err := call.NewEngine(cfg)
			if err != nil {
				b.Fatal(err)
			}
			engines = append(engines, e)
			go func() { done <- e.Run(ctx) }()
		}
		defer func() {
			for _, e := range engines {
				_ = e.Close()
			}
			for range engines {
				<-done
			}
		}()
		time.Sleep(100 * time.Millisecond) // let both fetch their relays
		ep := calltest.NewEpoch(b, 1, a, bb)
		start := time.Now()
		for _, e := range engines {
			if err := e.SetEpoch(ep); err != nil {
				b.Fatal(err)
			}
		}
		for recs[0].Frames(bb.Member.String(), call.Video, 1) == 0 || recs[1].Frames(a.Member.String(), call.Video, 1) == 0 {
			if time.Since(start) > setupLimit {
				b.Fatalf("no media within %v", setupLimit)
			}
			time.Sleep(time.Millisecond)
		}
		d = time.Since(start)
		wantRelayed := lc.NAT.MappingBehavior == calltest.SymmetricNAT.MappingBehavior
		if s := engines[0].Stats(); len(s) != 1 || s[0].Path.Relayed() != wantRelayed {
			b.Fatalf("path %+v; want relayed %v", s, wantRelayed)
		}
	}()
	return d
}

// cleanupTB runs Cleanups when the caller says, not at the end of the
// benchmark, so that each run's internet stops before the next starts.
type cleanupTB struct {
	*testing.B
	fns []func()
}

func (c *cleanupTB) Cleanup(f func()) { c.fns = append(c.fns, f) }

func (c *cleanupTB) cleanup() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
	c.fns = nil
}
