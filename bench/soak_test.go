//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/internal/localnet"
)

const (
	soakDefault  = time.Hour
	soakMeetings = 10
	// soakRotate is the leaders' periodic rekey (parley meeting run
	// --rotate), on top of the rekey every join and every leave brings.
	soakRotate = time.Minute
	// soakHold is how long a member's session runs (parley meeting join
	// --duration) before the member leaves; soakPause separates cycles.
	soakHold  = 20 * time.Second
	soakPause = 5 * time.Second
)

// BenchmarkSoak runs two single-validator chains side by side from the
// same binary and the defaults parleyd init writes: a busy one, on which
// 10 meetings cycle joins and rekeys for an hour, and an idle one with no
// traffic at all. Every minute it samples each node's resident memory
// (VmRSS), its live Go heap (HeapAlloc right after a GC the sample forces,
// through CometBFT's pprof endpoint) and the size of its data directory.
//
// The load is real `parley` processes, as a person would run them: each
// meeting's leader runs `parley meeting run --rotate 1m` for the whole
// soak; its member repeatedly joins (`parley meeting join --duration
// 20s`: a request with a fresh ephemeral key, the leader's commit, the
// sealed key through the mailbox) and leaves (`parley meeting leave`,
// after which the leader commits again). Each device pays from its own
// account.
//
// It reports, for both nodes, RSS and heap at the end of the warm-up (a
// quarter of the soak) and at the end, and their slope per hour fitted
// over the samples after the warm-up. The goal (issue 12 item 10) is a
// flat line after the warm-up under 300 MB; nothing is asserted. It fails
// only when no join succeeded, as the load would then not be a load.
//
// PARLEY_SOAK sets the duration (default 1h; PARLEY_SOAK=10m for a quick
// try) and PARLEY_SOAK_WARMUP the warm-up (default a quarter of it). The
// samples are written to build/bench/soak.csv (PARLEY_SOAK_CSV); the
// clients' logs and each node's heap profiles at the end of the warm-up
// and at the end go beside it in soak-logs. Each
// invocation is one full measurement whatever b.N; run it with
// -benchtime 1x and a -timeout above the duration.
func BenchmarkSoak(b *testing.B) {
	dur, warm := soakDurations(b)
	bin := localnet.BuildBinaries(b)
	busy := soakStart(b, bin.Parleyd, "busy", "parley-soak")
	idle := soakStart(b, bin.Parleyd, "idle", "parley-soak-idle")
	block := latBlockTime(busy.net)

	setupCtx, cancelSetup := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancelSetup()
	setup := time.Now()
	csvPath, logDir, err := soakOutputs()
	if err != nil {
		b.Fatal(err)
	}
	cli, err := soakNewCLI(setupCtx, bin, busy, b.TempDir(), logDir)
	if err != nil {
		b.Fatal(err)
	}
	meetings, err := cli.setUp(setupCtx, soakMeetings, dur+30*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("soak set-up: %d meetings, %d devices registered and funded in %s; block time %s; soak %s, warm-up %s",
		len(meetings), 2*len(meetings), time.Since(setup).Round(time.Second), block, dur, warm)

	// The load and the sampling start together: t = 0.
	b.ResetTimer()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for _, m := range meetings {
		wg.Go(func() { cli.lead(ctx, m) })
		wg.Go(func() { cli.cycle(ctx, m) })
	}
	// A sample every minute (every tenth of a short soak) from t = 0, and
	// one at the end, before the clients stop.
	every := min(time.Minute, dur/10)
	var busyS, idleS []soakSample
	warmSaved := false
	for k := 1; ; k++ {
		busyS = append(busyS, busy.sample(time.Since(start)))
		idleS = append(idleS, idle.sample(time.Since(start)))
		// Heap profiles at the end of the warm-up and at the end, for
		// go tool pprof -base: what grew after the warm-up, if anything.
		if end := ctx.Err() != nil; end || !warmSaved && time.Since(start) >= warm {
			at := "warm"
			if end {
				at = "end"
			}
			for _, n := range []*soakNode{busy, idle} {
				if err := n.saveHeapProfile(filepath.Join(logDir, n.name+"-heap-"+at+".pb.gz")); err != nil {
					b.Logf("soak: %s node's heap profile: %v", n.name, err)
				}
			}
			warmSaved = true
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(start.Add(time.Duration(k) * every))):
		}
	}
	h1 := busyS[len(busyS)-1].height
	wg.Wait()
	b.StopTimer()

	if err := soakWriteCSV(csvPath, busyS, idleS); err != nil {
		b.Logf("soak: writing the samples: %v", err)
	}
	for i := range busyS {
		b.Logf("soak sample %s: busy %s; idle %s", busyS[i].at.Round(time.Second), busyS[i], idleS[i])
	}
	joins, failed, epochs := 0, 0, 0
	for _, m := range meetings {
		joins, failed = joins+m.joins, failed+m.failed
		epochs += m.epochs()
	}
	cli.logProblems(b, meetings)
	if joins == 0 {
		b.Fatalf("no join succeeded (%d failed); see the client logs above", failed)
	}

	bs, is := soakSummarise(busyS, warm), soakSummarise(idleS, warm)
	bs.report(b, "busy")
	is.report(b, "idle")
	b.ReportMetric(float64(joins), "joins")
	b.ReportMetric(float64(epochs), "epochs")
	b.ReportMetric(dur.Minutes(), "soak-min")
	fmt.Printf("soak: %s with %d meetings on one validator (block %s): %d joins (%d failed), %d epochs committed, %d blocks; "+
		"busy node %s; idle node beside it %s (warm-up %s, %d samples each)\n",
		dur, len(meetings), block, joins, failed, epochs, h1-busyS[0].height, bs, is, warm, len(busyS))
}

// soakDurations reads PARLEY_SOAK and PARLEY_SOAK_WARMUP.
func soakDurations(b *testing.B) (dur, warm time.Duration) {
	b.Helper()
	dur = soakDefault
	if v := os.Getenv("PARLEY_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Minute {
			b.Fatalf("PARLEY_SOAK=%q: want a duration of at least 2m", v)
		}
		dur = d
	}
	warm = dur / 4
	if v := os.Getenv("PARLEY_SOAK_WARMUP"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d >= dur {
			b.Fatalf("PARLEY_SOAK_WARMUP=%q: want a duration below the soak's %s", v, dur)
		}
		warm = d
	}
	return dur, warm
}

// soakOutputs are where the samples (PARLEY_SOAK_CSV, default
// build/bench/soak.csv) and, beside them in soak-logs, the clients' logs
// go; the logs of an earlier run are removed.
func soakOutputs() (csv, logs string, err error) {
	csv = os.Getenv("PARLEY_SOAK_CSV")
	if csv == "" {
		root, err := localnet.RepoRoot()
		if err != nil {
			return "", "", err
		}
		csv = filepath.Join(root, "build", "bench", "soak.csv")
	}
	logs = filepath.Join(filepath.Dir(csv), "soak-logs")
	if err := os.RemoveAll(logs); err != nil {
		return "", "", err
	}
	return csv, logs, os.MkdirAll(logs, 0o755)
}

// soakWriteCSV writes every sample of both nodes, for plotting and for
// docs/PERFORMANCE.md.
func soakWriteCSV(path string, busy, idle []soakSample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "node,minute,height,rss_mb,anon_mb,heap_mb,disk_mb")
	for _, s := range []struct {
		name    string
		samples []soakSample
	}{{"busy", busy}, {"idle", idle}} {
		for _, x := range s.samples {
			fmt.Fprintf(f, "%s,%.2f,%d,%.1f,%.1f,%.1f,%.1f\n", s.name, x.at.Minutes(), x.height, x.rss, x.anon, x.heap, x.disk)
		}
	}
	return f.Close()
}
