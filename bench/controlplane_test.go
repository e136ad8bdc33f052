//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

const (
	cpMembers = 199 // who join the leader: 200 in all
	// cpWindow is the span over which the requests are sent, evenly: people
	// arriving at a large meeting's start. PARLEY_BENCH_CP_WINDOW overrides
	// it (0: all at once).
	cpWindow = 20 * time.Second
	// cpSessions of the members run a real meeting.Session; the others are
	// light members (cpMember). PARLEY_BENCH_CP_SESSIONS overrides it.
	cpSessions = 8
	cpLimit    = 3 * time.Minute // after the window, for every member to hold a key
	cpStep     = time.Minute     // for the removal's rekey
	cpSealRuns = 21              // of the idle reference SealAll (median)
)

// BenchmarkControlPlane200 grows one meeting to 200 members on a
// four-validator network of real parleyd processes on loopback, then
// removes one, and measures the control plane: chain, leader and mailbox.
//
// The leader is the client's own leader (a meeting.Session: it admits what
// is pending at each step, commits the epoch, seals the meeting key to
// every member with HPKE MLKEM768-X25519 and posts it through its
// node's mailbox), unmodified; the bench learns what it did through the
// chain, mailbox and device key it hands it (controlplane_leader_test.go).
// Each of the 199 members has its own paying account, device key,
// chain client and mailbox client, on a node of its own (round robin);
// each registers at set-up and, in the measurement, sends MsgRequestJoin
// (meeting.Request, a fresh ephemeral key) at an even spacing over
// cpWindow.
//
// Not every member runs a real session: cpSessions do (spread over the
// join order; one of them is the member removed), the rest are light
// members, which subscribe to the mailbox with their ephemeral key and
// check and open each key envelope as a session does (cpMember), reading
// each epoch record once for all. 199 real sessions do not fit two cores
// beside four validators: each session polls its node every 100 ms,
// verifies every header with its own light client, and installs each
// epoch only after reading every member's request with a proof (and, the
// first time, each member's device and user records), so 200 members
// cost ~40,000 proven reads per epoch (at ~0.4 ms each, 16 s of CPU for
// every epoch). Tried three times (PARLEY_BENCH_CP_SESSIONS=199): 3 min
// 20 s after the window opened only 40 to 83 of the 199 held a key,
// every request in a block, the nodes and this process using 1.7 of the
// 2 cores; the leader, sharing this process with the 199 sessions, took
// ~0.5 s for each of its serial envelope posts and over 80 s to post one
// 200-member epoch. The real sessions' own latencies are reported apart,
// to show what that per-epoch work adds.
//
//   - joins: first request sent → every member holding a key (wall);
//     joins per block (199 over the blocks from the first request's to
//     the commit that made the roster 200) and per commit; each member's
//     request sent → its first key installed, p50/p95; the gas and size
//     of the commit at 200 members, which admits whoever was pending (its
//     gas grows with them), and of the removal's, which admits nobody.
//   - rekey: the leader removes the first real member; its commit sent →
//     each of the 198 others installing the new epoch's key (p50, p95,
//     max). Asserted: the removed member's session ends with ErrRemoved
//     holding no key of that epoch, no envelope of it is delivered to
//     its key, and the leader posts none to it.
//   - key wrap: the leader's sealing of the 200-member epoch's key to 199
//     members, timed inside the run (from its first envelope signature
//     to its last), against the same SealAll of the same 199 keys in
//     this process afterwards, with the chain idle; benchtable sets both
//     beside client/keyschedule's BenchmarkSealAll1000Cached.
//
// The chain's max_participants (default 1,000) already allows 200; the
// bench reads it and fails if it does not.
//
// Each invocation is one full measurement whatever b.N; run it with
// -benchtime 1x.
func BenchmarkControlPlane200(b *testing.B) {
	window, nreal := cpWindow, cpSessions
	if v, ok := os.LookupEnv("PARLEY_BENCH_CP_WINDOW"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("PARLEY_BENCH_CP_WINDOW: %v", err)
		}
		window = d
	}
	if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_CP_SESSIONS")); err == nil && n >= 1 && n <= cpMembers {
		nreal = n
	}
	ln := latStart(b, 4)
	block := latBlockTime(ln.Network)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	var (
		parties    []*latParty
		members    []*cpMember
		leaderDone = make(chan struct{})
	)
	defer func() {
		cancel()
		deadline := time.After(30 * time.Second)
		for _, m := range append(members, &cpMember{done: leaderDone}) {
			m.mu.Lock()
			done := m.done
			m.mu.Unlock()
			if done == nil {
				continue // a light member, or a session never started
			}
			select {
			case <-done:
			case <-deadline:
			}
		}
		for _, p := range parties {
			_ = p.mbox.Close()
		}
	}()

	// Set-up: accounts, devices, the meeting, its leader.
	setup := time.Now()
	accounts, err := loadFundAccounts(ctx, ln, cpMembers)
	if err != nil {
		b.Fatalf("funding %d accounts: %v", cpMembers, err)
	}
	dir := b.TempDir()
	store, err := keystore.Open(filepath.Join(dir, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	leader, err := latNewParty(ln, 0, "alice", "cplead", "dev", store, filepath.Join(dir, "meetings"))
	if err != nil {
		b.Fatal(err)
	}
	parties = append(parties, leader)
	every := cpMembers / nreal
	reals := 0
	for i := range cpMembers {
		p, err := latNewParty(ln, i+1, accounts[i], fmt.Sprintf("cp%03d", i), "dev", store, filepath.Join(dir, "meetings"))
		if err != nil {
			b.Fatal(err)
		}
		real := reals < nreal && i%every == 0
		if real {
			reals++
		}
		members, parties = append(members, newCPMember(p, real)), append(parties, p)
	}
	if err := loadRegisterAll(ctx, parties); err != nil {
		b.Fatal(err)
	}
	snap, err := leader.chain.Reader().Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	params, err := snap.MeetingParams(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if params.MaxParticipants < cpMembers+1 || params.MaxPendingRequests < cpMembers {
		b.Fatalf("the chain allows %d participants and %d pending requests: raise them in the bench's genesis", params.MaxParticipants, params.MaxPendingRequests)
	}
	id, _, err := meeting.Create(ctx, leader.chain, leader.eph, leader.dev, meeting.CreateOptions{Duration: time.Hour})
	if err != nil {
		b.Fatalf("creating the meeting: %v", err)
	}
	lc := &cpLeaderChain{Client: leader.chain}
	lbox := &cpLeaderBox{Mailbox: leader.mbox}
	signer := &cpSigner{Signer: leader.dev.Key}
	lead := &cpMember{p: leader, installed: map[uint64]time.Time{}, delivered: map[uint64]int{}}
	sess, err := meeting.NewSession(meeting.Config{
		Chain: lc, Mailbox: lbox, Device: meeting.Device{UserID: leader.user, DeviceID: leader.device, Key: signer},
		MeetingID: id, Eph: leader.eph, RotateEvery: time.Hour,
		OnEpoch: func(ep meeting.Epoch) {
			lead.mu.Lock()
			lead.installed[ep.Number] = time.Now()
			lead.mu.Unlock()
		},
		OnEvent: func(e meeting.Event) {
			if p, ok := e.(meeting.EventProblem); ok {
				lead.problem(p.String())
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		_ = sess.Run(ctx)
		close(leaderDone)
	}()
	if err := latWait(ctx, cpStep, func() bool { return sess.Epoch() >= 1 }); err != nil {
		b.Fatalf("the leader committed no first epoch: %v", err)
	}
	obs, err := latOpen(verify.Config{
		Chain: chain.Config{Nodes: latRotate(ln.rpcs, 1), ChainID: ln.ChainID()},
		State: verify.State{Anchor: ln.anchor},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer obs.Close()
	if snap, err = obs.Reader().Latest(ctx); err != nil {
		b.Fatal(err)
	}
	ldev, err := snap.Device(ctx, leader.user, leader.device)
	if err != nil {
		b.Fatal(err)
	}
	recs := newCPRecords(obs, id, meeting.DeviceRef{User: leader.user, Device: leader.device}, ldev.Pubkey)
	b.Logf("controlplane set-up: 4 validators (block %s), max_participants %d, max_pending_requests %d (chain defaults); %d devices funded and registered, meeting made in %s; %d of %d members run real sessions",
		block, params.MaxParticipants, params.MaxPendingRequests, len(parties), time.Since(setup).Round(time.Millisecond), reals, cpMembers)

	// 1. Joins.
	var pids []int
	for _, nd := range ln.Nodes() {
		pid, err := loadPID(nd)
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	st0, err := leader.chain.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpSampleCPU(pids)
	describe := func() string {
		n, p := cpSampleCPU(pids).since(cpu0)
		return cpDescribe(members, lead, lc, lbox, sess) +
			fmt.Sprintf("  CPU since the joins began: the 4 nodes %.2f cores, this process %.2f (of %d)\n", n, p, runtime.NumCPU())
	}
	start := time.Now()
	joinErrs := make(chan error, cpMembers)
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * window / cpMembers))):
			}
			if err := m.join(ctx, id, recs); err != nil {
				joinErrs <- err
			}
		})
	}
	keyedAll := func() bool {
		for _, m := range members {
			if e, _ := m.first(); e == 0 {
				return false
			}
		}
		return true
	}
	err = latWait(ctx, window+cpLimit, func() bool { return len(joinErrs) > 0 || keyedAll() })
	if len(joinErrs) > 0 {
		err = <-joinErrs
	}
	if err != nil {
		b.Fatalf("joins: %v\n%s", err, describe())
	}
	cpu1 := cpSampleCPU(pids)
	wg.Wait()
	var lastKeyed time.Time
	for _, m := range members {
		_, t := m.first()
		lastKeyed = latLater(lastKeyed, t)
	}
	commits := lc.landed()
	full := slices.IndexFunc(commits, func(c cpCommit) bool { return len(c.members) == cpMembers+1 })
	if full < 0 {
		b.Fatalf("no commit listed all %d members\n%s", cpMembers+1, describe())
	}
	c200 := commits[full]
	// Settle: every member on the 200-member epoch (or later) before the
	// removal.
	if err := latWait(ctx, cpStep, func() bool {
		for _, m := range members {
			if m.newest() < c200.epoch {
				return false
			}
		}
		return true
	}); err != nil {
		b.Fatalf("not every member reached epoch %d: %v\n%s", c200.epoch, err, describe())
	}
	st1, err := leader.chain.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the leader proves its last commit

	// 2. Removal.
	victim := members[0] // the first to join, a real session
	victim.mu.Lock()
	victimTo := keyschedule.EphemeralKeyHash(victim.priv.PublicKey().Bytes())
	victim.mu.Unlock()
	cpu2 := cpSampleCPU(pids)
	asked := time.Now()
	sess.Remove(victim.p.user, victim.p.device)
	var rm cpCommit
	if err := latWait(ctx, cpStep, func() bool {
		for _, c := range lc.landed() {
			if c.epoch > c200.epoch {
				rm = c
				return true
			}
		}
		return false
	}); err != nil {
		b.Fatalf("the leader committed no epoch after %d: %v\n%s", c200.epoch, err, describe())
	}
	remaining := members[1:]
	if err := latWait(ctx, cpStep, func() bool {
		for _, m := range remaining {
			if _, ok := m.installedAt(rm.epoch); !ok {
				return false
			}
		}
		return true
	}); err != nil {
		b.Fatalf("not every remaining member installed epoch %d: %v\n%s", rm.epoch, err, describe())
	}
	cpu3 := cpSampleCPU(pids)
	b.StopTimer()
	if err := cpCheckRemoved(rm, victim, victimTo, lbox); err != nil {
		b.Fatalf("%v\n%s", err, describe())
	}
	if err := recs.prove(ctx); err != nil {
		b.Fatal(err)
	}

	// 3. The same sealing, idle, for reference; and the commits' sizes.
	sealIdle, err := cpSealIdle(ctx, leader, ln.ChainID(), id, c200, members)
	if err != nil {
		b.Fatal(err)
	}
	sizes, err := cpTxSizes(ctx, ln, c200, rm)
	if err != nil {
		b.Fatal(err)
	}
	cpReport(b, cpRun{
		window: window, block: block, start: start, lastKeyed: lastKeyed, st0: st0, st1: st1, cpu: [4]cpCPU{cpu0, cpu1, cpu2, cpu3},
		members: members, reals: reals, commits: commits, c200: c200, rm: rm, asked: asked,
		lbox: lbox, signer: signer, sealIdle: sealIdle, sizes: sizes, lead: lead, refused: lc.refused(),
	})
}
