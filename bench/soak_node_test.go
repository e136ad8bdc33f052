//go:build bench

package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/internal/localnet"
)

// soakNode is a single-validator network whose node serves pprof, so that
// its live heap can be read.
type soakNode struct {
	name  string // busy or idle
	net   *localnet.Network
	pid   int
	pprof string // host:port
}

// soakStart starts a one-validator network with the defaults of parleyd
// init (as the localnet script leaves them) and restarts its node with
// CometBFT's pprof server on a free loopback port: the script turns pprof
// off, since every node would otherwise take CometBFT's default port.
func soakStart(b *testing.B, parleyd, name, chainID string) *soakNode {
	b.Helper()
	n := localnet.Start(b, localnet.Options{Parleyd: parleyd, Validators: 1, ChainID: chainID})
	addr, err := soakFreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	if err := n.StopNode(0); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(n.Node(0).Home, "config", "config.toml")
	if err := soakSetConfig(cfg, "pprof_laddr", strconv.Quote(addr)); err != nil {
		b.Fatal(err)
	}
	if err := n.StartNode(0); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := n.Height(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.WaitNodeHeight(ctx, 0, h+1); err != nil {
		b.Fatal(err)
	}
	pid, err := loadPID(n.Node(0))
	if err != nil {
		b.Fatal(err)
	}
	s := &soakNode{name: name, net: n, pid: pid, pprof: addr}
	if _, err := s.heap(ctx); err != nil {
		b.Fatalf("soak: %s: no heap figures from pprof on %s: %v", chainID, addr, err)
	}
	return s
}

// soakFreeAddr is a loopback address whose port is free now.
func soakFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// soakSetConfig sets key = value (value as TOML) on the one line of a
// config file that sets key.
func soakSetConfig(path, key, value string) error {
	bz, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(bz), "\n")
	n := 0
	for i, l := range lines {
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			lines[i] = key + " = " + value
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: %d lines set %s, want 1", path, n, key)
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
}

// soakSample is one minute's figures of one node (sizes in MB); a figure
// that could not be read is NaN.
type soakSample struct {
	at     time.Duration // since the load started
	height int64
	// rss is VmRSS; anon the part of it that is not file-backed
	// (RssAnon): the binary's own pages, which the heap profiles' symbols
	// page in, count in rss only.
	rss, anon, heap, disk float64
}

func (s soakSample) String() string {
	return fmt.Sprintf("height %d, RSS %.0f MB (anonymous %.0f MB), heap %.1f MB, disk %.1f MB", s.height, s.rss, s.anon, s.heap, s.disk)
}

func (n *soakNode) sample(at time.Duration) soakSample {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := soakSample{at: at, rss: math.NaN(), anon: math.NaN(), heap: math.NaN(), disk: math.NaN()}
	s.height, _ = n.net.Height(ctx, 0)
	if kb, err := soakStatus(n.pid); err == nil {
		s.rss, s.anon = float64(kb["VmRSS"])/1024, float64(kb["RssAnon"])/1024
	}
	if h, err := n.heap(ctx); err == nil {
		s.heap = h
	}
	if d, err := soakDirSize(filepath.Join(n.net.Node(0).Home, "data")); err == nil {
		s.disk = float64(d) / (1 << 20)
	}
	return s
}

// soakStatus reads the sizes (kB) of /proc/<pid>/status.
func soakStatus(pid int) (map[string]int64, error) {
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	kb := map[string]int64{}
	for _, line := range strings.Split(string(bz), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && isKB {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				kb[k] = n
			}
		}
	}
	if _, ok := kb["VmRSS"]; !ok {
		return nil, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return kb, nil
}

// heap is the node's live heap in MB: HeapAlloc as the runtime reports it
// right after the garbage collection that ?gc=1 runs first, so that the
// figure does not depend on where in its GC cycle the node was.
func (n *soakNode) heap(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.pprof+"/debug/pprof/heap?gc=1&debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("pprof: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			_, _ = io.Copy(io.Discard, resp.Body)
			bytes, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return bytes / (1 << 20), err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("pprof: no HeapAlloc in the heap profile")
}

// saveHeapProfile writes the node's heap profile, taken after a GC, to
// path.
func (n *soakNode) saveHeapProfile(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// soakDirSize is the total size of the regular files under dir.
func soakDirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			// Files come and go under a running database.
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total, err
}

// soakFigures are one node's RSS and heap at the end of the warm-up and
// at the end, and their least-squares slope per hour after the warm-up.
type soakFigures struct {
	rssWarm, rssEnd, rssSlope    float64
	anonWarm, anonEnd, anonSlope float64
	heapWarm, heapEnd, heapSlope float64
	diskWarm, diskEnd            float64
	samples                      int // after the warm-up
}

func soakSummarise(ss []soakSample, warm time.Duration) soakFigures {
	var after []soakSample
	for _, s := range ss {
		if s.at >= warm {
			after = append(after, s)
		}
	}
	f := soakFigures{samples: len(after)}
	if len(after) == 0 {
		nan := math.NaN()
		return soakFigures{rssWarm: nan, rssEnd: nan, rssSlope: nan, anonWarm: nan, anonEnd: nan, anonSlope: nan,
			heapWarm: nan, heapEnd: nan, heapSlope: nan, diskWarm: nan, diskEnd: nan}
	}
	first, last := after[0], after[len(after)-1]
	f.rssWarm, f.rssEnd, f.rssSlope = first.rss, last.rss, soakSlope(after, func(s soakSample) float64 { return s.rss })
	f.anonWarm, f.anonEnd, f.anonSlope = first.anon, last.anon, soakSlope(after, func(s soakSample) float64 { return s.anon })
	f.heapWarm, f.heapEnd, f.heapSlope = first.heap, last.heap, soakSlope(after, func(s soakSample) float64 { return s.heap })
	f.diskWarm, f.diskEnd = first.disk, last.disk
	return f
}

// soakSlope is the least-squares slope of v over the samples, per hour;
// samples whose figure is missing are left out.
func soakSlope(ss []soakSample, v func(soakSample) float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss {
		y := v(s)
		if math.IsNaN(y) {
			continue
		}
		x := s.at.Hours()
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / d
}

func (f soakFigures) report(b *testing.B, node string) {
	b.ReportMetric(f.rssWarm, node+"-rss-warm-MB")
	b.ReportMetric(f.rssEnd, node+"-rss-end-MB")
	b.ReportMetric(f.rssSlope, node+"-rss-MB/h")
	b.ReportMetric(f.anonSlope, node+"-anon-MB/h")
	b.ReportMetric(f.heapWarm, node+"-heap-warm-MB")
	b.ReportMetric(f.heapEnd, node+"-heap-end-MB")
	b.ReportMetric(f.heapSlope, node+"-heap-MB/h")
	b.ReportMetric(f.diskEnd, node+"-disk-end-MB")
}

func (f soakFigures) String() string {
	return fmt.Sprintf("RSS %.0f → %.0f MB (%+.1f MB/h; anonymous %.0f → %.0f MB, %+.1f MB/h), heap %.1f → %.1f MB (%+.1f MB/h), data %.0f → %.0f MB",
		f.rssWarm, f.rssEnd, f.rssSlope, f.anonWarm, f.anonEnd, f.anonSlope, f.heapWarm, f.heapEnd, f.heapSlope, f.diskWarm, f.diskEnd)
}
