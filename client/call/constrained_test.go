package call_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

// keyOnRequest wraps an adaptive synthetic source so that, after the
// first, it sends key frames only when asked: every later key frame a
// receiver decodes answers a request.
type keyOnRequest struct {
	*call.SyntheticSource
	asked   atomic.Int64
	pending atomic.Bool
	rate    atomic.Int64 // the source's bitrate, for the test's goroutine
	first   bool
	buf     []byte
}

func (s *keyOnRequest) SetTargetBitrate(b int) {
	s.SyntheticSource.SetTargetBitrate(b)
	s.rate.Store(int64(s.SyntheticSource.Bitrate()))
}

func (s *keyOnRequest) RequestKeyframe() {
	s.asked.Add(1)
	s.pending.Store(true)
	s.SyntheticSource.RequestKeyframe()
}

func (s *keyOnRequest) ReadFrame() ([]byte, time.Duration, error) {
	f, d, err := s.SyntheticSource.ReadFrame()
	if err != nil || f[0]&1 != 0 {
		return f, d, err
	}
	if !s.first || s.pending.Swap(false) {
		s.first = true
		return f, d, nil
	}
	s.buf = append(s.buf[:0], f...)
	s.buf[0] = 0x11 // the periodic key frame goes as a delta frame
	return s.buf, d, nil
}

// sample is one second of a constrained call.
type sample struct {
	at                  time.Duration
	sourceBitrate       int
	target              int
	decrypted, keys     int64
	keyReqs, rejections uint64
}

// TestConstrainedLink runs a call over links into each LAN that start
// clear (20 Mbit/s, 20 ms), then narrow to 1 Mbit/s with 100 ms delay,
// ±10 ms jitter and 2 % loss, then clear again. The call keeps
// decrypting throughout; alice's video bitrate follows the congestion
// controller's estimate down to the link and back up; bob's losses make
// him ask for key frames, and alice's source sends them. The figures are
// logged, one line a second; recovery after the link clears is measured,
// not asserted (on a loaded machine the engines, not the link, may be
// what holds the bitrate down).
func TestConstrainedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("a 45-second call")
	}
	if raceEnabled {
		t.Skip("under the race detector the engines, not the link, limit the bitrate")
	}
	t.Cleanup(calltest.CheckGoroutines(t))
	clear := calltest.Link{Rate: 20_000_000, Delay: 20 * time.Millisecond}
	in := calltest.NewInternet(t,
		calltest.LANConfig{NAT: calltest.EndpointIndependentNAT, Link: clear},
		calltest.LANConfig{NAT: calltest.EndpointIndependentNAT, Link: clear})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // after the parties' Cleanup stops them

	syn, err := call.NewAdaptiveSyntheticSource(2_500_000, 30)
	if err != nil {
		t.Fatal(err)
	}
	src := &keyOnRequest{SyntheticSource: syn}
	src.rate.Store(int64(syn.Bitrate()))
	keys := &keyCounter{}
	a, b := calltest.NewDevice(t, "alice", "laptop"), calltest.NewDevice(t, "bob", "phone")
	alice := startOn(t, ctx, a, in.LANs[0].SettingEngine(t), netw, func(c *call.Config) {
		c.Reach.Relays = relaysOf(srv, "alice/laptop")
		c.Video = src
	})
	bob := startOn(t, ctx, b, in.LANs[1].SettingEngine(t), netw, func(c *call.Config) {
		c.Reach.Relays = relaysOf(srv, "bob/phone")
		c.Sinks = keys.sinks()
	})
	ep := calltest.NewEpoch(t, 1, a, b)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "bob to decrypt alice's video", func() bool { return keys.frames.Load() > 10 })

	start := time.Now()
	take := func(phase string, d time.Duration, stop func(sample) bool) []sample {
		var out []sample
		for end := time.Now().Add(d); time.Now().Before(end); {
			time.Sleep(time.Second)
			s, _ := alice.statsOf(bob.name())
			bs, _ := bob.statsOf(alice.name())
			smp := sample{
				at: time.Since(start), sourceBitrate: int(src.rate.Load()), target: alice.eng.TargetBitrate(),
				decrypted: keys.frames.Load(), keys: keys.keys.Load(), keyReqs: s.KeyframeRequests, rejections: bs.Rejected.Total(),
			}
			t.Logf("%-11s %5.1fs  source %5d kbit/s  estimate %5d kbit/s  bob decrypted %5d video frames, %3d key frames (alice asked %d times)",
				phase, smp.at.Seconds(), smp.sourceBitrate/1000, smp.target/1000, smp.decrypted, smp.keys, smp.keyReqs)
			out = append(out, smp)
			if stop != nil && stop(smp) {
				break
			}
		}
		return out
	}
	clearBefore := take("clear", 8*time.Second, nil)
	for _, l := range in.LANs {
		l.TBF.SetRate(1_000_000)
		l.SetDelay(100*time.Millisecond, 10*time.Millisecond)
		if err := l.Loss.SetLossRate(2, true); err != nil {
			t.Fatal(err)
		}
	}
	narrow := take("1 Mbit/s", 15*time.Second, nil)
	for _, l := range in.LANs {
		l.TBF.SetRate(20_000_000)
		l.SetDelay(20*time.Millisecond, 0)
		_ = l.Loss.SetLossRate(0, true)
	}
	cleared := time.Now()
	peak := clearBefore[len(clearBefore)-1].sourceBitrate
	after := take("clear again", 40*time.Second, func(s sample) bool { return s.sourceBitrate >= peak*9/10 })
	recovery := time.Since(cleared)

	// The call kept decrypting: every second of the narrow phase brought
	// new frames.
	prev := clearBefore[len(clearBefore)-1].decrypted
	for _, s := range narrow {
		if s.decrypted <= prev {
			t.Errorf("at %v bob decrypted nothing new in a second (%d frames)", s.at, s.decrypted)
		}
		prev = s.decrypted
	}
	// The bitrate followed the link: over the last 8 s of the narrow phase
	// the video averages under the link's rate.
	last := narrow[len(narrow)-1]
	avg := 0
	for _, s := range narrow[len(narrow)-8:] {
		avg += s.sourceBitrate / 8
	}
	if avg >= 1_000_000 || avg <= 0 {
		t.Errorf("on a 1 Mbit/s link alice sends %d bit/s of video on average", avg)
	}
	// Key frames came on request, and only then: bob's receiver asks at
	// the start of the track and whenever a frame is lost for good.
	if last.keyReqs == 0 || last.keys < 1 || last.keys > src.asked.Load() {
		t.Errorf("key frames: bob decoded %d, alice was asked %d times", last.keys, src.asked.Load())
	}
	reached := after[len(after)-1].sourceBitrate >= peak*9/10
	var sb strings.Builder
	fmt.Fprintf(&sb, "video before the squeeze %d kbit/s; on the 1 Mbit/s link %d kbit/s on average over 8 s; %d key frames, all asked for (%d requests); ",
		peak/1000, avg/1000, last.keys, src.asked.Load())
	if reached {
		fmt.Fprintf(&sb, "back to 90%% of it %v after the link cleared", recovery.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(&sb, "%d kbit/s 40 s after the link cleared", after[len(after)-1].sourceBitrate/1000)
	}
	t.Log(sb.String())
}
