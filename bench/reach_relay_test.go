//go:build bench

package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v5"

	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

const (
	// relayRate is what the client sends through the relay, and the peer
	// echoes back: 2 × relayRate is forwarded.
	relayRate    = 20_000_000 // bit/s each way
	relayPacket  = 1200       // bytes: a video RTP packet
	relayMeasure = 5 * time.Second
	relayWarmup  = time.Second
	relayEnv     = "PARLEY_BENCH_RELAY_SERVER"
)

// BenchmarkRelayCPU measures the CPU a relay spends per forwarded Mbit/s:
// Parley's (node/turn: credentials, quotas, bandwidth budgets, peer
// filter) and, as the floor, a bare pion/turn server with the same
// credential scheme relaying the same packets. Each server runs in a
// process of its own (this test binary, TestRelayServerProcess), which
// reports its own CPU time (getrusage) over the measured window; the
// load — a TURN client sending 1200-byte packets at 20 Mbit/s through an
// allocation to a peer socket that echoes them back, so 40 Mbit/s is
// forwarded — runs here. Sockets are on a non-loopback address of this
// machine (the relay refuses loopback peers); the traffic never leaves it.
func BenchmarkRelayCPU(b *testing.B) {
	ip := localIPv4(b)
	for range b.N {
		// Interleaved rounds, so that what else the machine does falls on
		// both alike; the medians are reported.
		var ours, bare []relayResult
		for range relayRounds {
			ours = append(ours, relayCPU(b, "ours", ip))
			bare = append(bare, relayCPU(b, "bare", ip))
		}
		o, r := medianResult(ours), medianResult(bare)
		b.ReportMetric(o.perMbps, "ours-cpu-%/Mbit/s")
		b.ReportMetric(r.perMbps, "bare-cpu-%/Mbit/s")
		b.ReportMetric(o.perMbps/r.perMbps, "ours/bare")
		b.ReportMetric(o.mbps, "forwarded-Mbit/s")
		for i := range ours {
			b.Logf("round %d: Parley's relay %.3f%% of a core per forwarded Mbit/s (%.1f Mbit/s, %.1f%% CPU, %d packets lost), bare pion/turn %.3f%% (%.1f Mbit/s, %.1f%% CPU, %d lost)",
				i+1, ours[i].perMbps, ours[i].mbps, ours[i].cpu, ours[i].lost, bare[i].perMbps, bare[i].mbps, bare[i].cpu, bare[i].lost)
		}
		b.Logf("median: Parley's %.3f%%, bare %.3f%% of a core per forwarded Mbit/s: %.2f×", o.perMbps, r.perMbps, o.perMbps/r.perMbps)
	}
}

// relayRounds is the number of interleaved measurements of each server.
const relayRounds = 5

func medianResult(rs []relayResult) relayResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b relayResult) int { return cmp.Compare(a.perMbps, b.perMbps) })
	return s[len(s)/2]
}

type relayResult struct {
	cpu     float64 // percent of a core
	mbps    float64 // forwarded, both directions
	perMbps float64
	lost    int64
}

// localIPv4 returns an IPv4 address of this machine that is not loopback.
func localIPv4(b *testing.B) string {
	b.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	b.Skip("no non-loopback IPv4 address: the relay refuses loopback peers, so there is nothing to measure on")
	return ""
}

// relayCPU starts a server of kind in a child process and pushes the load
// through it.
func relayCPU(b *testing.B, kind, ip string) relayResult {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRelayServerProcess$")
	cmd.Env = append(os.Environ(), relayEnv+"="+kind, "PARLEY_BENCH_RELAY_IP="+ip)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	next := func(prefix string) string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		}
		b.Fatalf("relay server (%s) ended before %q: %v", kind, prefix, lines.Err())
		return ""
	}
	server := next("listening ")

	// A credential as a node's mailbox gives it.
	issuer, err := turn.New(turn.Config{UDP: []string{"127.0.0.1:0"}, PublicIP: net.ParseIP("127.0.0.1"), Secret: turntest.Secret})
	if err != nil {
		b.Fatal(err)
	}
	cred := issuer.Issue("bench/client")
	_ = issuer.Close()

	conn, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Username: cred.Username, Password: cred.Password,
		Realm: turn.DefaultRealm, Conn: conn, LoggerFactory: logging.NewDefaultLoggerFactory(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		b.Fatal(err)
	}
	relay, err := client.Allocate()
	if err != nil {
		b.Fatalf("allocate at the %s relay: %v", kind, err)
	}
	defer relay.Close()
	peer, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	for _, c := range []net.PacketConn{conn, peer} {
		if u, ok := c.(*net.UDPConn); ok {
			_ = u.SetReadBuffer(4 << 20)
			_ = u.SetWriteBuffer(4 << 20)
		}
	}

	// The peer echoes; the client counts what comes back.
	var echoed, received atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			if _, err := peer.WriteTo(buf[:n], from); err == nil {
				echoed.Add(1)
			}
		}
	}()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := relay.ReadFrom(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()

	send := func(d time.Duration) int64 {
		pkt := make([]byte, relayPacket)
		perMs := float64(relayRate) / 8 / relayPacket / 1000
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		start, sent := time.Now(), int64(0)
		for time.Since(start) < d {
			<-t.C
			want := int64(perMs * float64(time.Since(start).Microseconds()) / 1000)
			for ; sent < want; sent++ {
				if _, err := relay.WriteTo(pkt, peer.LocalAddr()); err != nil {
					b.Fatal(err)
				}
			}
		}
		return sent
	}
	send(relayWarmup)
	time.Sleep(200 * time.Millisecond)

	var before, after rusage
	if _, err := fmt.Fprintln(stdin, "usage"); err != nil {
		b.Fatal(err)
	}
	_ = json.Unmarshal([]byte(next("usage ")), &before)
	r0, start := received.Load(), time.Now()
	sent := send(relayMeasure)
	time.Sleep(100 * time.Millisecond) // the last packets come back
	wall := time.Since(start)
	if _, err := fmt.Fprintln(stdin, "usage"); err != nil {
		b.Fatal(err)
	}
	_ = json.Unmarshal([]byte(next("usage ")), &after)
	back := received.Load() - r0

	cpu := float64(after.CPU-before.CPU) / float64(wall) * 100
	mbps := float64(back+sent) * relayPacket * 8 / wall.Seconds() / 1e6
	return relayResult{cpu: cpu, mbps: mbps, perMbps: cpu / mbps, lost: sent - back}
}

type rusage struct {
	CPU time.Duration // user + system
}

// TestRelayServerProcess is BenchmarkRelayCPU's server process: it runs
// only with PARLEY_BENCH_RELAY_SERVER set, serves until its stdin closes,
// and answers each "usage" line with its CPU time.
func TestRelayServerProcess(t *testing.T) {
	kind := os.Getenv(relayEnv)
	if kind == "" {
		t.Skip("the relay benchmark's server process")
	}
	ip := os.Getenv("PARLEY_BENCH_RELAY_IP")
	var (
		addr  string
		close func() error
	)
	switch kind {
	case "ours":
		s, err := turn.New(turn.Config{
			UDP: []string{ip + ":0"}, PublicIP: net.ParseIP(ip), RelayAddress: ip, RelayPortMin: 51000, RelayPortMax: 51999,
			Secret: turntest.Secret, AllowPrivatePeers: true,
			AllocationBandwidth: 1_000_000_000, DeviceBandwidth: 1_000_000_000,
		})
		if err != nil {
			t.Fatal(err)
		}
		addr, close = s.UDPAddr().String(), s.Close
	case "bare":
		pc, err := net.ListenPacket("udp4", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		s, err := pionturn.NewServer(pionturn.ServerConfig{
			Realm:       turn.DefaultRealm,
			AuthHandler: pionturn.LongTermTURNRESTAuthHandler(string(turntest.Secret), nil),
			PacketConnConfigs: []pionturn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: &pionturn.RelayAddressGeneratorPortRange{
				RelayAddress: net.ParseIP(ip), Address: ip, MinPort: 51000, MaxPort: 51999,
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		addr, close = pc.LocalAddr().String(), s.Close
	default:
		t.Fatalf("unknown relay kind %q", kind)
	}
	defer func() { _ = close() }()
	fmt.Printf("listening %s\n", addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		bz, _ := json.Marshal(rusage{CPU: cpu})
		fmt.Printf("usage %s\n", bz)
	}
	if err := in.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Fatal(err)
	}
}
