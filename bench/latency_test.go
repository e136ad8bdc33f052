//go:build bench

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/sframe"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

const (
	// latRuns is the number of measured joins, and of measured removals,
	// per network.
	latRuns = 20 // PARLEY_BENCH_LAT_RUNS overrides it (a quicker look)
	// latStepLimit bounds each wait; passing it fails the benchmark.
	latStepLimit = 45 * time.Second
)

// latSources is low-bitrate synthetic media: 100 kbit/s of VP8-shaped
// video at 15 fps and 16 kbit/s of Opus-shaped audio in 20 ms packets,
// so that a frame follows a connection within 20 ms.
func latSources() (video, audio call.Source, err error) {
	v, err := call.NewSyntheticSource(call.Video, 100_000, 15)
	if err != nil {
		return nil, nil, err
	}
	a, err := call.NewSyntheticSource(call.Audio, 16_000, 50)
	if err != nil {
		return nil, nil, err
	}
	return v, a, nil
}

// BenchmarkJoinRekeyLatency measures, on a one- and a four-validator
// network of real parleyd processes, how long a device takes to join a
// running three-party call and how long a removal takes to lock the
// removed device out and rekey the others.
//
// One meeting per network: alice's device leads and admits every
// request; bob's, carol's and dave's devices take turns, each joining
// with a fresh ephemeral key (meeting.Request) while two others are in
// the call, after which the member in the call longest is removed. Each
// network does two warm-up joins, then latRuns joins and latRuns removals.
// Every device pays from its own account and, of four validators, uses
// its own node first; a joining device starts with a new chain client.
// Media is synthetic (latSources) over loopback
// (call.LoopbackSettingEngine).
//
//   - join: the joiner's MsgRequestJoin sent (meeting.Request called) →
//     the first frame of the leader decrypted by the joiner;
//     joinmesh: → every member and the joiner decrypting each other in
//     the joiner's first epoch.
//   - rekey: the epoch commit that drops the member first seen in a block
//     on any node → both the removed member's session reporting its
//     removal (EventRemoved; it then ends with ErrRemoved, holds no key of
//     the new epoch, decrypts no frame of it, and a frame of it does not
//     open under its last key) and the three remaining members decrypting
//     each other in the new epoch, whichever is later.
//
// Each invocation is one full measurement whatever b.N; run it with
// -benchtime 1x.
func BenchmarkJoinRekeyLatency(b *testing.B) {
	for _, c := range []struct {
		validators int
		verify     string
	}{{1, "on"}, {4, "on"}, {4, "off"}} {
		b.Run(fmt.Sprintf("validators=%d/verify=%s", c.validators, c.verify), func(b *testing.B) { latBench(b, c.validators, c.verify == "off") })
	}
}

// latMeeting is the meeting a latency run cycles members through.
type latMeeting struct {
	blocks *latBlocks
	id     []byte
	leader *latParty
	in     []*latParty // members in the call, longest first
	out    []*latParty // members out of it
	runs   []*latRun   // every run started, to wait for at the end
}

func (m *latMeeting) inCall() []*latParty { return append([]*latParty{m.leader}, m.in...) }

func (m *latMeeting) describe() string {
	var s []string
	for _, p := range m.inCall() {
		s = append(s, "  "+p.run.describe(p.name()))
	}
	return strings.Join(s, "\n")
}

func latBench(b *testing.B, validators int, unverified bool) {
	ln := latStart(b, validators)
	ln.unverified = unverified
	block := latBlockTime(ln.Network)
	b.Logf("network: %d validator(s), block time (timeout_commit) %s", validators, block)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	m := &latMeeting{blocks: latWatchBlocks(ctx, ln.Network)}
	var parties []*latParty
	defer func() {
		cancel()
		latWaitRuns(30*time.Second, m.runs)
		m.blocks.stop()
		for _, p := range parties {
			_ = p.mbox.Close()
		}
	}()

	dir := b.TempDir()
	store, err := keystore.Open(filepath.Join(dir, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	// One paying account per device, so that no two devices' transactions
	// compete for an account sequence.
	for i, s := range [][2]string{{"alice", "lead"}, {"bob", "memb"}, {"carol", "memc"}, {"dave", "memd"}} {
		p, err := latNewParty(ln, i, s[0], s[1], "dev", store, filepath.Join(dir, "meetings"))
		if err != nil {
			b.Fatal(err)
		}
		parties = append(parties, p)
	}
	errs := make(chan error, len(parties))
	for _, p := range parties {
		go func() { errs <- p.register(ctx) }()
	}
	for range parties {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}

	m.leader, m.out = parties[0], parties[1:]
	m.id, _, err = meeting.Create(ctx, m.leader.chain, m.leader.eph, m.leader.dev, meeting.CreateOptions{Duration: time.Hour})
	if err != nil {
		b.Fatalf("creating the meeting: %v", err)
	}
	video, audio, err := latSources()
	if err != nil {
		b.Fatal(err)
	}
	run, err := m.leader.start(ctx, m.id, video, audio)
	if err != nil {
		b.Fatal(err)
	}
	m.runs = append(m.runs, run)

	// Warm-up: two members join, so that each measured join is into a
	// running three-party call.
	for range 2 {
		j := m.out[0]
		m.out = m.out[1:]
		if _, err := latJoin(ctx, m, j); err != nil {
			b.Fatalf("warm-up join of %s: %v", j.name(), err)
		}
		m.in = append(m.in, j)
	}

	// The chain's real block interval over the runs: the configured
	// timeout_commit plus the consensus rounds, which on one machine
	// share its cores with everything else.
	first, err := m.leader.chain.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var joins, meshes, inBlocks, keyed, rekeys, commits, lockouts []time.Duration
	runs := latRuns
	if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_LAT_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for i := range runs {
		j := m.out[0]
		m.out = m.out[1:]
		jt, err := latJoin(ctx, m, j)
		if err != nil {
			b.Fatalf("run %d: join of %s: %v", i, j.name(), err)
		}
		m.in = append(m.in, j)
		joins, meshes = append(joins, jt.first), append(meshes, jt.mesh)
		inBlocks, keyed = append(inBlocks, jt.inBlock), append(keyed, jt.keyed)

		v := m.in[0]
		m.in = m.in[1:]
		r, err := latRemove(ctx, m, v)
		if err != nil {
			b.Fatalf("run %d: removal of %s: %v", i, v.name(), err)
		}
		m.out = append(m.out, v)
		rekeys, commits, lockouts = append(rekeys, r.rekey), append(commits, r.commit), append(lockouts, r.lockout)
		if testing.Verbose() {
			b.Logf("run %2d: %s joined: request in a block %s, key %s, first leader frame %s, mesh %s; %s removed at epoch %d: asked→committed %s, committed→locked out %s, →rekeyed %s",
				i, j.name(), latFmt(jt.inBlock), latFmt(jt.keyed), latFmt(jt.first), latFmt(jt.mesh),
				v.name(), r.epoch, latFmt(r.commit), latFmt(r.lockout), latFmt(r.rekey))
		}
	}
	b.StopTimer()
	last, err := m.leader.chain.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	interval := last.BlockTime.Sub(first.BlockTime) / time.Duration(max(last.Height-first.Height, 1))
	b.ReportMetric(latMS(interval), "interval-ms")

	b.ReportMetric(latMS(latPercentile(joins, .50)), "join-p50-ms")
	b.ReportMetric(latMS(latPercentile(joins, .95)), "join-p95-ms")
	b.ReportMetric(latMS(latPercentile(meshes, .50)), "joinmesh-p50-ms")
	b.ReportMetric(latMS(latPercentile(meshes, .95)), "joinmesh-p95-ms")
	b.ReportMetric(latMS(latPercentile(rekeys, .50)), "rekey-p50-ms")
	b.ReportMetric(latMS(latPercentile(rekeys, .95)), "rekey-p95-ms")
	b.ReportMetric(latMS(latPercentile(commits, .50)), "removecommit-p50-ms")
	b.ReportMetric(latMS(latPercentile(lockouts, .50)), "lockout-p50-ms")
	if d, err := time.ParseDuration(block); err == nil {
		b.ReportMetric(float64(d.Milliseconds()), "block-ms")
	}
	b.ReportMetric(float64(runs), "runs")
	// Every frame any member refused over all the joins and rekeys: the
	// key transition should leave none at a switch.
	var rejected uint64
	for _, r := range m.runs {
		for _, s := range r.p.Engine().Stats() {
			rejected += s.Rejected.Total()
		}
	}
	b.ReportMetric(float64(rejected), "rejected-frames")
	fmt.Printf("latency validators=%d (block %s, measured interval %s, %d runs): join p50 %s p95 %s; rekey p50 %s p95 %s "+
		"(join: request in a block p50 %s, key installed p50 %s, mesh p50 %s p95 %s; "+
		"removal asked→committed p50 %s; committed→removed member out p50 %s p95 %s)\n",
		validators, block, latFmt(interval), runs,
		latFmt(latPercentile(joins, .50)), latFmt(latPercentile(joins, .95)),
		latFmt(latPercentile(rekeys, .50)), latFmt(latPercentile(rekeys, .95)),
		latFmt(latPercentile(inBlocks, .50)), latFmt(latPercentile(keyed, .50)),
		latFmt(latPercentile(meshes, .50)), latFmt(latPercentile(meshes, .95)),
		latFmt(latPercentile(commits, .50)),
		latFmt(latPercentile(lockouts, .50)), latFmt(latPercentile(lockouts, .95)))
}

// latMeshAt reports whether every party of ps decrypted every other in an
// epoch >= epoch and, if so, the latest of those first frames among the
// pairs that involve who (all pairs if who is nil).
func latMeshAt(ps []*latParty, epoch uint64, who *latParty) (time.Time, bool) {
	var last time.Time
	for _, rx := range ps {
		for _, tx := range ps {
			if rx == tx {
				continue
			}
			t, ok := rx.run.rec.firstFrom(tx.name(), epoch)
			if !ok {
				return time.Time{}, false
			}
			if (who == nil || rx == who || tx == who) && t.After(last) {
				last = t
			}
		}
	}
	return last, true
}

// latJoined is what one join measured, each from the request sent.
type latJoined struct {
	inBlock time.Duration // meeting.Request returned: the request is in a block
	keyed   time.Duration // the joiner's engine got its first epoch key
	first   time.Duration // the joiner decrypted its first frame of the leader
	mesh    time.Duration // the joiner and every member decrypt each other
}

// latJoin has j request to join with a fresh ephemeral key and run, and
// waits until it decrypts the leader and everyone decrypts everyone.
func latJoin(ctx context.Context, m *latMeeting, j *latParty) (latJoined, error) {
	var out latJoined
	video, audio, err := latSources()
	if err != nil {
		return out, err
	}
	// A device that starts now: a chain client with no pooled connection
	// that the node may close as it is reused (see BenchmarkMeetingsLoad).
	if err := j.newChain(); err != nil {
		return out, err
	}
	// A member removed in an earlier run comes back only if the leader
	// lets it (removals stick, issue 12): the leader does, as a person
	// would press "Let back in".
	m.runs[0].p.Session().Readmit(j.user, j.device)
	sent := time.Now()
	if _, err := meeting.Request(ctx, j.chain, j.eph, j.dev, m.id, nil); err != nil {
		return out, fmt.Errorf("request: %w", err)
	}
	out.inBlock = time.Since(sent)
	run, err := j.start(ctx, m.id, video, audio)
	if err != nil {
		return out, err
	}
	m.runs = append(m.runs, run)
	var firstAt time.Time
	if err := latWait(ctx, latStepLimit, func() bool {
		var ok bool
		firstAt, ok = run.rec.firstFrom(m.leader.name(), 0)
		return ok
	}); err != nil {
		return out, fmt.Errorf("no frame of the leader decrypted: %w\n%s\n  %s", err, m.describe(), run.describe(j.name()))
	}
	epoch := run.firstEpoch()
	keyedAt, _ := run.firstEpochAt()
	all := append(m.inCall(), j)
	var meshAt time.Time
	if err := latWait(ctx, latStepLimit, func() bool {
		var ok bool
		meshAt, ok = latMeshAt(all, epoch, j)
		return ok
	}); err != nil {
		return out, fmt.Errorf("not everyone decrypts everyone in epoch %d: %w\n%s\n  %s", epoch, err, m.describe(), run.describe(j.name()))
	}
	out.keyed, out.first, out.mesh = keyedAt.Sub(sent), firstAt.Sub(sent), meshAt.Sub(sent)
	return out, nil
}

// latRemoval is what one removal measured.
type latRemoval struct {
	epoch   uint64        // the epoch without the removed member
	commit  time.Duration // removal asked → its epoch's block seen
	lockout time.Duration // block seen → the removed member's session reported removal
	rekey   time.Duration // block seen → locked out and the others decrypting each other in the new epoch
}

// latRemove has the leader remove v (already taken out of m.in), waits
// for the new epoch, and checks that v is locked out of it.
func latRemove(ctx context.Context, m *latMeeting, v *latParty) (latRemoval, error) {
	var r latRemoval
	leader, victim := m.leader.run, v.run
	before := leader.p.Session().Epoch()
	oldEpoch := victim.p.Engine().Epoch()
	oldKey := victim.key(oldEpoch)
	if oldKey == nil {
		return r, fmt.Errorf("%s holds no key of its epoch %d", v.name(), oldEpoch)
	}

	asked := time.Now()
	leader.p.Session().Remove(v.user, v.device)
	if err := latWait(ctx, latStepLimit, func() bool {
		r.epoch = leader.p.Session().Epoch()
		return r.epoch > before
	}); err != nil {
		return r, fmt.Errorf("the leader committed no epoch after %d: %w\n%s", before, err, m.describe())
	}
	res, err := m.leader.chain.Meeting().Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: m.id, Epoch: r.epoch})
	if err != nil {
		return r, fmt.Errorf("epoch %d: %w", r.epoch, err)
	}
	if res.Epoch.Reason != meetingtypes.Reason_REASON_REMOVE || meetingtypes.SenderIndex(res.Epoch.Members, v.user, v.device) >= 0 {
		return r, fmt.Errorf("epoch %d (reason %s) is not the removal of %s", r.epoch, res.Epoch.Reason, v.name())
	}
	committed, err := m.blocks.at(ctx, res.Epoch.Height)
	if err != nil {
		return r, err
	}

	remaining := m.inCall()
	var meshAt time.Time
	if err := latWait(ctx, latStepLimit, func() bool {
		var ok bool
		meshAt, ok = latMeshAt(remaining, r.epoch, nil)
		return ok
	}); err != nil {
		return r, fmt.Errorf("the remaining members do not decrypt each other in epoch %d: %w\n%s", r.epoch, err, m.describe())
	}
	select {
	case <-victim.done:
	case <-time.After(latStepLimit):
		return r, fmt.Errorf("%s's session still runs %s after its removal\n  %s", v.name(), latStepLimit, victim.describe(v.name()))
	}
	removedAt, runErr := victim.result()

	// Locked out: the session said so, and it has nothing of the new epoch.
	switch {
	case !errors.Is(runErr, meeting.ErrRemoved):
		return r, fmt.Errorf("%s's session ended with %v, not as removed", v.name(), runErr)
	case removedAt.IsZero():
		return r, fmt.Errorf("%s's session reported no removal", v.name())
	case victim.hasEpochFrom(r.epoch):
		return r, fmt.Errorf("%s got a key of epoch %d or later", v.name(), r.epoch)
	}
	for _, p := range remaining {
		if n := victim.rec.count(p.name(), r.epoch); n > 0 {
			return r, fmt.Errorf("%s decrypted %d frames of %s in epoch %d", v.name(), n, p.name(), r.epoch)
		}
	}
	newKey := leader.key(r.epoch)
	if newKey == nil {
		return r, fmt.Errorf("the leader's engine was given no key of epoch %d", r.epoch)
	}
	if err := latLockedOut(oldKey, oldEpoch, newKey, r.epoch); err != nil {
		return r, fmt.Errorf("%s: %w", v.name(), err)
	}

	done := meshAt
	if removedAt.After(done) {
		done = removedAt
	}
	r.commit, r.lockout, r.rekey = committed.Sub(asked), removedAt.Sub(committed), done.Sub(committed)
	return r, nil
}

// latLockedOut encrypts a frame in the new epoch (as sender 0) and checks
// that a keyring holding only the removed member's last key refuses it.
func latLockedOut(oldKey []byte, oldEpoch uint64, newKey []byte, newEpoch uint64) error {
	s, err := sframe.NewSender()
	if err != nil {
		return err
	}
	defer s.EraseAll()
	if err := s.SetEpoch(newEpoch, newKey, 0); err != nil {
		return err
	}
	frame, err := s.Encrypt(nil, sframe.CodecOpus, []byte{0xfc, 0xde, 0xad, 0xbe, 0xef})
	if err != nil {
		return err
	}
	ring, err := sframe.NewKeyring()
	if err != nil {
		return err
	}
	defer ring.EraseAll()
	if err := ring.SetEpoch(oldEpoch, oldKey, 4); err != nil {
		return err
	}
	if _, err := ring.Decrypt(nil, sframe.CodecOpus, frame); err == nil {
		return fmt.Errorf("a frame of epoch %d decrypted under the key of epoch %d", newEpoch, oldEpoch)
	}
	return nil
}
