package call_test

import (
	"context"
	"flag"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

var (
	meshCall = flag.Duration("call.mesh-duration", 3*time.Second, "BenchmarkMeshCPU: call time measured per iteration")
	meshVNet = flag.Bool("call.mesh-vnet", false, "BenchmarkMeshCPU: use pion's virtual network instead of loopback UDP")
)

// Load of BenchmarkMeshCPU per sender: synthetic pre-encoded frames, no
// codecs.
const (
	meshParties    = 4
	meshVideoRate  = 2_500_000 // bit/s
	meshVideoFPS   = 30
	meshAudioRate  = 48_000
	meshAudioFPS   = 50
	meshWarmup     = time.Second
	meshConnectMax = 20 * time.Second
)

// BenchmarkMeshCPU runs a 4-party full mesh in this process, each member
// sending 2.5 Mbit/s of video (30 fps, ~10.4 KB frames) and 48 kbit/s of
// audio (50 fps, 120 B), SFrame-encrypted, over loopback UDP (or vnet with
// -call.mesh-vnet), and reports the process's CPU time (user + system) per
// second of call per participant, in percent of one core.
func BenchmarkMeshCPU(b *testing.B) {
	netw := calltest.NewNetwork()
	var vn *calltest.VNet
	if *meshVNet {
		vn = calltest.NewVNet(b)
		defer func() { _ = vn.Close() }()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var devs []*calltest.Device
	for i := range meshParties {
		devs = append(devs, calltest.NewDevice(b, fmt.Sprintf("user%d", i), "dev"))
	}
	engines := make([]*call.Engine, 0, meshParties)
	done := make(chan error, meshParties)
	defer func() {
		for _, e := range engines {
			_ = e.Close()
		}
		for range engines {
			<-done
		}
	}()
	for _, d := range devs {
		cfg := d.Config(netw.Endpoint(d.Member))
		if vn != nil {
			cfg.SettingEngine = vn.SettingEngine(b)
		} else {
			cfg.SettingEngine = call.LoopbackSettingEngine()
		}
		var err error
		if cfg.Video, err = call.NewSyntheticSource(call.Video, meshVideoRate, meshVideoFPS); err != nil {
			b.Fatal(err)
		}
		if cfg.Audio, err = call.NewSyntheticSource(call.Audio, meshAudioRate, meshAudioFPS); err != nil {
			b.Fatal(err)
		}
		e, err := call.NewEngine(cfg)
		if err != nil {
			b.Fatal(err)
		}
		engines = append(engines, e)
		go func() { done <- e.Run(ctx) }()
	}
	ep := calltest.NewEpoch(b, 1, devs...)
	for _, e := range engines {
		if err := e.SetEpoch(ep); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(meshConnectMax)
	for !meshFlowing(engines) {
		if time.Now().After(deadline) {
			b.Fatal("mesh did not connect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(meshWarmup)

	var cpu, wall time.Duration
	var decrypted, sent uint64
	b.ResetTimer()
	for range b.N {
		d0, s0 := meshCounts(engines)
		c0, t0 := cpuTime(b), time.Now()
		time.Sleep(*meshCall)
		cpu += cpuTime(b) - c0
		wall += time.Since(t0)
		d1, s1 := meshCounts(engines)
		decrypted += d1 - d0
		sent += s1 - s0
	}
	b.StopTimer()
	perSecond := wall.Seconds() * meshParties
	b.ReportMetric(100*cpu.Seconds()/perSecond, "cpu-%/participant")
	b.ReportMetric(float64(decrypted)/perSecond, "frames-decrypted/s/participant")
	b.ReportMetric(float64(sent)*8/perSecond/1e6, "Mbit/s-sent/participant")
	for _, e := range engines {
		for _, s := range e.Stats() {
			if s.Rejected.Total() != 0 {
				b.Errorf("rejected frames from %s/%s: %+v", s.UserID, s.DeviceID, s.Rejected)
			}
		}
	}
}

// meshFlowing reports whether every member decrypts every other.
func meshFlowing(engines []*call.Engine) bool {
	for _, e := range engines {
		st := e.Stats()
		if len(st) != meshParties-1 {
			return false
		}
		for _, s := range st {
			if s.FramesDecrypted == 0 {
				return false
			}
		}
	}
	return true
}

// meshCounts sums decrypted frames and ciphertext bytes sent.
func meshCounts(engines []*call.Engine) (decrypted, bytesSent uint64) {
	for _, e := range engines {
		for _, s := range e.Stats() {
			decrypted += s.FramesDecrypted
			bytesSent += s.BytesSent
		}
	}
	return decrypted, bytesSent
}

// cpuTime is the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
