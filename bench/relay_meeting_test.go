//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// The 30-member meeting of issue 14: audio from all (three speak, the
// others send silence), video from six at 300 kbit/s, last-N 6, on one
// relay running in a process of its own so that its CPU is its own.
const (
	meetMembers  = 30
	meetSpeakers = 3
	meetVideos   = 6
	meetVideoBPS = 300_000
	meetVideoFPS = 30
	meetAudioBPS = 32_000
	meetLastN    = 6
	meetConnect  = time.Minute
	meetWarmup   = 5 * time.Second
	meetWindow   = 20 * time.Second
	meetTail     = time.Second // frames stamped in the window's last second may still be on their way
	meetChildEnv = "PARLEY_BENCH_SFU_CHILD"
	stampOffset  = 16 // where a frame carries its send time: after every clear prefix
)

// BenchmarkRelayMeeting30 runs the meeting for meetWindow after a warm-up
// and reports: frames decrypted of those the relay forwarded (every
// stream it forwards is stable: the three speakers' audio and the six
// videos), p50 and p95 latency from the sender's pump to the receiver's
// sink (after decryption), each member's download, and the relay's CPU
// per forwarded down-track and per forwarded packet.
func BenchmarkRelayMeeting30(b *testing.B) {
	for range b.N {
		runRelayMeeting(b)
	}
}

func runRelayMeeting(b *testing.B) {
	child := startRelayChild(b)
	defer child.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	netw := calltest.NewNetwork()
	var devs []*calltest.Device
	for i := range meetMembers {
		devs = append(devs, calltest.NewDevice(b, fmt.Sprintf("member%02d", i), "dev"))
	}
	ep := calltest.NewEpoch(b, 1, devs...)
	rec := newStampRecorder()
	sent := make([]*stampSource, 0, 2*meetMembers)
	var engines []*call.Engine
	var wg sync.WaitGroup
	for i, d := range devs {
		cfg := d.Config(netw.Endpoint(d.Member))
		cfg.SettingEngine = call.LoopbackSettingEngine()
		cfg.LastN = meetLastN
		cfg.Sinks = rec.sinks(d.Member.String())
		cfg.MediaRelay = child.dialer(d.Member.UserID, d.Member.DeviceID)
		audio, err := call.NewSyntheticSource(call.Audio, meetAudioBPS, 50)
		if err != nil {
			b.Fatal(err)
		}
		if i >= meetSpeakers {
			audio.SetAudioLevel(127)
		}
		as := &stampSource{src: audio, leveler: audio, from: d.Member.String(), kind: call.Audio}
		cfg.Audio = as
		sent = append(sent, as)
		if i < meetVideos {
			video, err := call.NewSyntheticSource(call.Video, meetVideoBPS, meetVideoFPS)
			if err != nil {
				b.Fatal(err)
			}
			vs := &stampSource{src: video, from: d.Member.String(), kind: call.Video}
			cfg.Video = vs
			sent = append(sent, vs)
		}
		e, err := call.NewEngine(cfg)
		if err != nil {
			b.Fatal(err)
		}
		epc := ep
		epc.Key = bytes.Clone(ep.Key)
		if err := e.SetEpoch(epc); err != nil {
			b.Fatal(err)
		}
		engines = append(engines, e)
		wg.Go(func() { _ = e.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()

	connectBy := time.Now().Add(meetConnect)
	for i, e := range engines {
		for e.Relay().State != "connected" {
			if time.Now().After(connectBy) {
				b.Fatalf("member %d's relay link is %q after %v", i, e.Relay().State, meetConnect)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(meetWarmup)
	bytesIn := func() []uint64 {
		out := make([]uint64, len(engines))
		for i, e := range engines {
			for _, s := range e.Stats() {
				out[i] += s.BytesReceived
			}
		}
		return out
	}
	u0, in0 := child.usage(b), bytesIn()
	start := time.Now()
	rec.open(start)
	time.Sleep(meetWindow)
	end := time.Now()
	rec.close(end.Add(-meetTail))
	u1, in1 := child.usage(b), bytesIn()
	time.Sleep(meetTail) // the window's last frames arrive

	// Frames sent with a stamp in [start, end-tail] by each sender, and
	// those decrypted by each receiver that the relay forwards it to.
	var want, got int
	var lat []time.Duration
	var downTracks int
	for _, r := range devs {
		me := r.Member.String()
		for _, s := range sent {
			if s.from == me {
				continue
			}
			n := rec.count(me, s.from, s.kind)
			if n == 0 {
				continue // not forwarded to this member (a silent sender's audio)
			}
			downTracks++
			want += s.sentIn(start, end.Add(-meetTail))
			got += n
		}
	}
	lat = rec.latencies()
	var held, expired, cut uint64
	for _, e := range engines {
		sg := e.Relay().Signatures
		held, expired, cut = held+sg.Held, expired+sg.HeldExpired, cut+sg.CutForged+sg.CutUnsigned+sg.CutEquivocated
	}
	if len(lat) == 0 || want == 0 {
		b.Fatal("no frame was measured")
	}
	slices.Sort(lat)
	wall := end.Sub(start)
	cpu := float64(u1.CPU-u0.CPU) / float64(wall) * 100
	pkts := u1.Packets - u0.Packets
	var down []float64
	for i := range engines {
		down = append(down, float64(in1[i]-in0[i])*8/wall.Seconds()/1000)
	}
	slices.Sort(down)
	delivered := float64(got) / float64(want) * 100
	p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	perDown := cpu / float64(downTracks)
	nsPerPkt := float64(u1.CPU-u0.CPU) / float64(pkts)
	b.ReportMetric(delivered, "%delivered")
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
	b.ReportMetric(down[len(down)-1], "max-download-kbit/s")
	b.ReportMetric(cpu, "relay-cpu-%")
	b.ReportMetric(perDown, "relay-cpu-%/downtrack")
	b.ReportMetric(nsPerPkt, "relay-ns/packet")
	b.Logf("relay30: %d members, %d speakers, %d videos at %d kbit/s, last-N %d; %d down-tracks (relay says %d)",
		meetMembers, meetSpeakers, meetVideos, meetVideoBPS/1000, meetLastN, downTracks, u1.DownTracks)
	rec.mu.Lock()
	dups := rec.dups
	rec.mu.Unlock()
	b.Logf("relay30: delivered %d of %d frames forwarded (%.2f %%), %d delivered twice; latency send→decrypt p50 %v p95 %v (%d frames)",
		got, want, delivered, dups, p50.Round(100*time.Microsecond), p95.Round(100*time.Microsecond), len(lat))
	b.Logf("relay30: download per member min %.0f median %.0f max %.0f kbit/s", down[0], down[len(down)/2], down[len(down)-1])
	b.Logf("relay30: relay CPU %.1f %% of a core over %v: %.3f %% per down-track, %.0f ns per forwarded packet (%d packets)",
		cpu, wall.Round(time.Second), perDown, nsPerPkt, pkts)
	b.Logf("relay30: frame signatures: %d senders held at some receiver, %d held frames expired unplayed, %d cut; the relay forwarded %d signature messages, dropped %d",
		held, expired, cut, u1.Stats.OpaqueForwarded-u0.Stats.OpaqueForwarded, u1.Stats.OpaqueDropped-u0.Stats.OpaqueDropped)
}

// stampSource writes the time each frame leaves the pump into it, at
// stampOffset, and counts the frames by send time.
type stampSource struct {
	src     call.Source
	leveler call.AudioLeveler
	from    string
	kind    call.MediaKind
	buf     []byte

	mu    sync.Mutex
	times []time.Time
}

func (s *stampSource) ReadFrame() ([]byte, time.Duration, error) {
	f, d, err := s.src.ReadFrame()
	if err != nil || len(f) < stampOffset+8 {
		return f, d, err
	}
	s.buf = append(s.buf[:0], f...)
	now := time.Now()
	binary.BigEndian.PutUint64(s.buf[stampOffset:], uint64(now.UnixNano()))
	s.mu.Lock()
	s.times = append(s.times, now)
	s.mu.Unlock()
	return s.buf, d, nil
}

// AudioLevel passes on the synthetic source's level.
func (s *stampSource) AudioLevel() uint8 {
	if s.leveler == nil {
		return 127
	}
	return s.leveler.AudioLevel()
}

// RequestKeyframe passes on key-frame requests.
func (s *stampSource) RequestKeyframe() {
	if k, ok := s.src.(call.KeyframeRequester); ok {
		k.RequestKeyframe()
	}
}

// sentIn counts the frames sent in [from, to].
func (s *stampSource) sentIn(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.times {
		if !t.Before(from) && !t.After(to) {
			n++
		}
	}
	return n
}

// stampRecorder counts the decrypted frames each receiver got from each
// sender whose stamp falls in the window, and their latencies.
type stampRecorder struct {
	mu       sync.Mutex
	from, to time.Time
	counts   map[string]int
	seen     map[string]bool // key and stamp: a frame counted once
	dups     int
	lat      []time.Duration
}

func newStampRecorder() *stampRecorder {
	return &stampRecorder{counts: map[string]int{}, seen: map[string]bool{}}
}

func (r *stampRecorder) open(from time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.from, r.to = from, time.Time{}
}

func (r *stampRecorder) close(to time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.to = to
}

func (r *stampRecorder) sinks(me string) call.SinkFactory {
	return func(from call.Member, kind call.MediaKind) (call.Sink, error) {
		return &stampSink{r: r, key: fmt.Sprintf("%s<%s/%v", me, from, kind)}, nil
	}
}

func (r *stampRecorder) count(me, from string, kind call.MediaKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[fmt.Sprintf("%s<%s/%v", me, from, kind)]
}

func (r *stampRecorder) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lat)
}

type stampSink struct {
	r   *stampRecorder
	key string
}

func (s *stampSink) WriteFrame(f call.Frame) error {
	now := time.Now()
	if len(f.Data) < stampOffset+8 {
		return nil
	}
	at := time.Unix(0, int64(binary.BigEndian.Uint64(f.Data[stampOffset:])))
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.from.IsZero() || at.Before(s.r.from) || (!s.r.to.IsZero() && at.After(s.r.to)) {
		return nil
	}
	id := fmt.Sprintf("%s@%d", s.key, at.UnixNano())
	if s.r.seen[id] {
		s.r.dups++
		return nil
	}
	s.r.seen[id] = true
	s.r.counts[s.key]++
	s.r.lat = append(s.r.lat, now.Sub(at))
	return nil
}

func (s *stampSink) Close() error { return nil }

// relayChild is the relay's process: the bench's own binary running
// TestSFUChildProcess, asked over its stdin and stdout.
type relayChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	mu    sync.Mutex
}

type childRequest struct {
	Op     string `json:"op"` // "join" or "usage"
	User   string `json:"user,omitempty"`
	Device string `json:"device,omitempty"`
	Offer  string `json:"offer,omitempty"`
}

type childReply struct {
	Answer     string        `json:"answer,omitempty"`
	Err        string        `json:"err,omitempty"`
	CPU        time.Duration `json:"cpu"`
	Packets    uint64        `json:"packets"`
	DownTracks int           `json:"down_tracks"`
	Stats      sfu.Stats     `json:"stats"`
}

func startRelayChild(b *testing.B) *relayChild {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSFUChildProcess$")
	cmd.Env = append(os.Environ(), meetChildEnv+"=1")
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
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &relayChild{cmd: cmd, stdin: stdin, out: sc}
}

func (c *relayChild) ask(req childRequest) (childReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	bz, _ := json.Marshal(req)
	if _, err := fmt.Fprintf(c.stdin, "%s\n", bz); err != nil {
		return childReply{}, err
	}
	for c.out.Scan() {
		line := c.out.Bytes()
		if !bytes.HasPrefix(line, []byte("reply ")) {
			continue // the test framework's own lines
		}
		var r childReply
		if err := json.Unmarshal(line[len("reply "):], &r); err != nil {
			return r, err
		}
		if r.Err != "" {
			return r, fmt.Errorf("relay: %s", r.Err)
		}
		return r, nil
	}
	return childReply{}, fmt.Errorf("relay process: %v", c.out.Err())
}

func (c *relayChild) dialer(user, device string) call.MediaRelayDialer {
	return func(ctx context.Context, offer, _ string) (string, string, error) {
		r, err := c.ask(childRequest{Op: "join", User: user, Device: device, Offer: offer})
		return r.Answer, "bench-relay", err
	}
}

func (c *relayChild) usage(b *testing.B) childReply {
	r, err := c.ask(childRequest{Op: "usage"})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func (c *relayChild) close() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// TestSFUChildProcess is BenchmarkRelayMeeting30's relay: it runs only
// with PARLEY_BENCH_SFU_CHILD set, serves until its stdin closes, and
// answers each request line with a "reply" line.
func TestSFUChildProcess(t *testing.T) {
	if os.Getenv(meetChildEnv) == "" {
		t.Skip("the 30-member benchmark's relay process")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := sfu.New(sfu.Config{SettingEngine: sfutest.LoopbackSettingEngine(), LoggerFactory: sfutest.QuietLoggers()})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx) }()
	defer r.Close()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	meeting := calltest.MeetingID
	for in.Scan() {
		var req childRequest
		var rep childReply
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			rep.Err = err.Error()
		}
		switch req.Op {
		case "join":
			jctx, jcancel := context.WithTimeout(ctx, 10*time.Second)
			rep.Answer, err = r.Join(jctx, sfu.JoinRequest{MeetingID: meeting, User: req.User, Device: req.Device, OfferSDP: req.Offer})
			jcancel()
			if err != nil {
				rep.Err = err.Error()
			}
		case "usage":
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				rep.Err = err.Error()
			}
			rep.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			st := r.Stats()
			rep.Packets, rep.DownTracks, rep.Stats = st.PacketsForwarded, st.DownTracks, st
		}
		bz, _ := json.Marshal(rep)
		fmt.Printf("reply %s\n", bz)
	}
}
