//go:build bench

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
)

const (
	loadMeetings = 50               // meetings, of three devices each
	loadWindow   = 10 * time.Second // over which the meetings start, evenly
	loadDeadline = 60 * time.Second // after the window, for a meeting to be complete
	loadRegister = 16               // registrations in flight during set-up
	loadHold     = 10 * time.Second // the calls go on after the joins, sampled too
	loadRSSEvery = 500 * time.Millisecond
)

// loadSource is tiny synthetic media: 10 fps of 100-byte VP8-shaped video
// and no audio (the audio track is negotiated but silent), so that 150
// call engines fit in one process on two cores.
func loadSource() (call.Source, error) { return call.NewSyntheticSource(call.Video, 8_000, 10) }

// BenchmarkMeetingsLoad starts 50 three-device meetings on one validator
// within a 10-second window: meeting i's leader creates it at i×200 ms and
// starts its session and call engine; once the meeting is on chain its two
// other devices request to join (meeting.Request) and start theirs. All
// 150 sessions and engines are real (session polling, mailbox signalling,
// pion mesh, SFrame) and run in this process; each device pays from its
// own account, funded from alice at set-up.
//
// It reports how many meetings were complete — all three devices
// decrypting each other — within 60 s of the window's end, the join
// latency of the 100 joining devices (MsgRequestJoin sent → first frame
// of the leader decrypted), and the validator's resident memory (VmRSS)
// idle after start, after set-up, and at its peak (sampled every 500 ms)
// from the window's start until the meetings that completed have talked
// for loadHold more. A meeting that cannot complete because a step failed
// (a transaction, a query) is counted as incomplete with its reason, not
// retried: that is what a user would see. It fails only when no meeting
// completed.
//
// Each invocation is one full measurement whatever b.N; run it with
// -benchtime 1x.
func BenchmarkMeetingsLoad(b *testing.B) {
	ln := latStart(b, 1)
	block := latBlockTime(ln.Network)
	pid, err := loadPID(ln.Node(0))
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let the node settle after its first blocks
	idle, err := loadRSS(pid)
	if err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	var meetings []*loadMeeting
	defer func() {
		cancel()
		var runs []*latRun
		for _, m := range meetings {
			runs = append(runs, m.snapshot()...)
		}
		latWaitRuns(60*time.Second, runs)
		for _, m := range meetings {
			for _, p := range m.parties {
				if p != nil {
					_ = p.mbox.Close()
				}
			}
		}
	}()

	setup := time.Now()
	n := 3 * loadMeetings
	accounts, err := loadFundAccounts(ctx, ln, n)
	if err != nil {
		b.Fatalf("funding %d accounts: %v", n, err)
	}
	dir := b.TempDir()
	store, err := keystore.Open(filepath.Join(dir, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	for i := range loadMeetings {
		m := &loadMeeting{}
		meetings = append(meetings, m)
		for j, role := range []string{"lead", "memb", "memc"} {
			p, err := latNewParty(ln, 0, accounts[3*i+j], fmt.Sprintf("m%02d-%s", i, role), "dev", store, filepath.Join(dir, "meetings"))
			if err != nil {
				b.Fatal(err)
			}
			m.parties[j] = p
		}
	}
	var all []*latParty
	for _, m := range meetings {
		all = append(all, m.parties[:]...)
	}
	if err := loadRegisterAll(ctx, all); err != nil {
		b.Fatal(err)
	}
	// Fresh chain clients for the load. Those of the set-up sat idle for
	// about as long as the node's RPC server keeps an idle connection (its
	// 10 s read timeout); a request sent just as the server closes one
	// fails with EOF, and the client, with one node, does not try again:
	// a client problem (see the report), not one of load.
	for _, m := range meetings {
		for _, p := range m.parties {
			if err := p.newChain(); err != nil {
				b.Fatal(err)
			}
		}
	}
	before, err := loadRSS(pid)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("set-up: %d accounts funded, %d devices registered in %s; node RSS %d MB idle, %d MB before the load",
		n, n, time.Since(setup).Round(time.Millisecond), idle>>10, before>>10)

	// The load.
	b.ResetTimer()
	node := loadSampleRSS(pid)
	self := loadSampleRSS(os.Getpid())
	nodeCPU0, _ := loadCPU(pid)
	selfCPU0, _ := loadCPU(os.Getpid())
	start := time.Now()
	var wg sync.WaitGroup
	for i, m := range meetings {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * loadWindow / loadMeetings))):
			}
			m.run(ctx)
		})
	}
	deadline := start.Add(loadWindow + loadDeadline)
	_ = latWait(ctx, time.Until(deadline), func() bool {
		for _, m := range meetings {
			if _, ok := m.fullAt(); !ok && m.failure() == nil {
				return false
			}
		}
		return true
	})
	b.StopTimer()
	joining := time.Since(start)
	nodeCPU1, _ := loadCPU(pid)
	selfCPU1, _ := loadCPU(os.Getpid())
	// The peak is of the whole load: the joins, then every meeting that
	// made it talking for loadHold more.
	held := loadFrames(meetings)
	select {
	case <-ctx.Done():
	case <-time.After(loadHold):
	}
	held = loadFrames(meetings) - held
	peak, samples := node.stop()
	selfPeak, _ := self.stop()
	cancel()
	wg.Wait()

	var joins, inBlocks, keyed, fulls []time.Duration
	done, joined, missing := 0, 0, 0
	var last time.Time
	failures := map[string]int{}
	for _, m := range meetings {
		// Only what happened by the deadline counts, not during the hold.
		if at, ok := m.fullAt(); ok && !at.After(deadline) {
			done++
			fulls = append(fulls, at.Sub(m.begin))
			if at.After(last) {
				last = at
			}
		} else if err := m.failure(); err != nil {
			failures[loadReason(err)]++
		} else {
			failures["not all three decrypting each other by the deadline"]++
		}
		for _, j := range m.joins(deadline) {
			if j.ok {
				joined++
				joins, inBlocks, keyed = append(joins, j.first), append(inBlocks, j.inBlock), append(keyed, j.keyed)
			} else {
				missing++
			}
		}
	}
	whys := make([]string, 0, len(failures))
	for why := range failures {
		whys = append(whys, why)
	}
	sort.Strings(whys)
	for _, why := range whys {
		b.Logf("%d meeting(s) incomplete: %s", failures[why], why)
	}
	loadLogProblems(b, meetings)
	if done == 0 || len(joins) == 0 {
		b.Fatalf("no meeting completed (%d joins decrypted the leader)", len(joins))
	}

	b.ReportMetric(float64(done), "meetings-done")
	b.ReportMetric(float64(joined), "joins-done")
	b.ReportMetric(latMS(latPercentile(joins, .50)), "join-p50-ms")
	b.ReportMetric(latMS(latPercentile(joins, .95)), "join-p95-ms")
	b.ReportMetric(latMS(latPercentile(fulls, .95)), "full-p95-ms")
	b.ReportMetric(float64(idle>>10), "rss-idle-MB")
	b.ReportMetric(float64(before>>10), "rss-preload-MB")
	b.ReportMetric(float64(peak>>10), "rss-load-MB")
	fmt.Printf("load: %d meetings × 3 devices started within %s on 1 validator (block %s): %d/%d complete within %s of the window (the last %s after it opened); "+
		"join p50 %s p95 %s over %d of %d joiners (request in a block p50 %s p95 %s, key installed p50 %s p95 %s); meeting start → all three decrypting each other p50 %s p95 %s; "+
		"then %s of calls: %d frames decrypted (%.0f/s); "+
		"node RSS idle %d MB, after set-up %d MB, peak %d MB (%d samples); this process's RSS peak %d MB; "+
		"CPU while joining (%s): node %.2f cores, this process %.2f cores\n",
		loadMeetings, loadWindow, block, done, loadMeetings, loadDeadline, last.Sub(start).Round(100*time.Millisecond),
		latFmt(latPercentile(joins, .50)), latFmt(latPercentile(joins, .95)), joined, joined+missing,
		latFmt(latPercentile(inBlocks, .50)), latFmt(latPercentile(inBlocks, .95)),
		latFmt(latPercentile(keyed, .50)), latFmt(latPercentile(keyed, .95)),
		latFmt(latPercentile(fulls, .50)), latFmt(latPercentile(fulls, .95)),
		loadHold, held, float64(held)/loadHold.Seconds(),
		idle>>10, before>>10, peak>>10, samples, selfPeak>>10,
		joining.Round(100*time.Millisecond), (nodeCPU1-nodeCPU0).Seconds()/joining.Seconds(), (selfCPU1-selfCPU0).Seconds()/joining.Seconds())
}

// loadMeeting is one meeting of the load: a leader and two members.
type loadMeeting struct {
	parties [3]*latParty

	mu    sync.Mutex
	begin time.Time    // the leader's MsgCreateMeeting sent
	sent  [3]time.Time // each member's MsgRequestJoin sent
	acked [3]time.Time // and in a block (meeting.Request returned)
	runs  [3]*latRun
	err   error // a step that failed, so the meeting cannot complete
}

// run creates the meeting, starts the leader, then has both members
// request to join and start, concurrently.
func (m *loadMeeting) run(ctx context.Context) {
	lead := m.parties[0]
	m.mu.Lock()
	m.begin = time.Now()
	m.mu.Unlock()
	id, _, err := meeting.Create(ctx, lead.chain, lead.eph, lead.dev, meeting.CreateOptions{Duration: time.Hour})
	if err != nil {
		m.fail(fmt.Errorf("create: %w", err))
		return
	}
	if err := m.start(ctx, 0, id); err != nil {
		m.fail(err)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < 3; i++ {
		wg.Go(func() {
			p := m.parties[i]
			m.mu.Lock()
			m.sent[i] = time.Now()
			m.mu.Unlock()
			if _, err := meeting.Request(ctx, p.chain, p.eph, p.dev, id, nil); err != nil {
				m.fail(fmt.Errorf("request: %w", err))
				return
			}
			m.mu.Lock()
			m.acked[i] = time.Now()
			m.mu.Unlock()
			if err := m.start(ctx, i, id); err != nil {
				m.fail(err)
			}
		})
	}
	wg.Wait()
}

func (m *loadMeeting) start(ctx context.Context, i int, id []byte) error {
	src, err := loadSource()
	if err != nil {
		return err
	}
	r, err := m.parties[i].start(ctx, id, src, nil)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.runs[i] = r
	m.mu.Unlock()
	return nil
}

func (m *loadMeeting) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.err = err
	}
}

func (m *loadMeeting) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *loadMeeting) snapshot() []*latRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*latRun
	for _, r := range m.runs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// fullAt reports whether all three decrypted each other and, if so, when
// the last of the six first frames arrived.
func (m *loadMeeting) fullAt() (time.Time, bool) {
	runs := m.snapshot()
	if len(runs) != 3 {
		return time.Time{}, false
	}
	var last time.Time
	for rx := range 3 {
		for tx := range 3 {
			if rx == tx {
				continue
			}
			t, ok := runs[rx].rec.firstFrom(m.parties[tx].name(), 0)
			if !ok {
				return time.Time{}, false
			}
			if t.After(last) {
				last = t
			}
		}
	}
	return last, true
}

// loadJoin is one member's join, each time from its request sent; ok is
// false for a member that did not decrypt the leader by the deadline (or
// never requested).
type loadJoin struct {
	inBlock, keyed, first time.Duration
	ok                    bool
}

func (m *loadMeeting) joins(deadline time.Time) []loadJoin {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]loadJoin, 0, 2)
	for i := 1; i < 3; i++ {
		var j loadJoin
		if r := m.runs[i]; r != nil {
			t, ok := r.rec.firstFrom(m.parties[0].name(), 0)
			k, _ := r.firstEpochAt()
			j = loadJoin{inBlock: m.acked[i].Sub(m.sent[i]), keyed: k.Sub(m.sent[i]), first: t.Sub(m.sent[i]), ok: ok && !t.After(deadline)}
		}
		out = append(out, j)
	}
	return out
}

// loadLogProblems logs how many problems the sessions reported (a key
// envelope that did not open, a query that failed, ...) and the most
// common of the last few each kept.
func loadLogProblems(b *testing.B, meetings []*loadMeeting) {
	total, kinds := 0, map[string]int{}
	for _, m := range meetings {
		for _, r := range m.snapshot() {
			n, last := r.problemCount()
			total += n
			for _, p := range last {
				kinds[loadReason(errors.New(p))]++
			}
		}
	}
	if total == 0 {
		return
	}
	list := make([]string, 0, len(kinds))
	for k := range kinds {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return kinds[list[i]] > kinds[list[j]] })
	b.Logf("the sessions reported %d problems; most common of the last kept:", total)
	for _, k := range list[:min(len(list), 5)] {
		b.Logf("  %d× %s", kinds[k], k)
	}
}

// loadFrames is the number of frames every device of the load decrypted.
func loadFrames(meetings []*loadMeeting) int {
	n := 0
	for _, m := range meetings {
		for _, r := range m.snapshot() {
			n += r.rec.total()
		}
	}
	return n
}

// loadReason shortens a failure to its kind, for counting.
func loadReason(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
