//go:build bench

package bench

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/parleynet/parley/client/chain"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// cpRun is what BenchmarkControlPlane200 gathered, for the report.
type cpRun struct {
	window    time.Duration
	block     string
	start     time.Time    // the joins' window opened
	lastKeyed time.Time    // the last member installed its first key
	st0, st1  chain.Status // the chain before and after the joins
	cpu       [4]cpCPU     // before and after the joins, and the removal
	members   []*cpMember
	reals     int
	commits   []cpCommit // landed, through the 200-member one and after
	c200, rm  cpCommit   // the commit that made the roster 200; the removal
	asked     time.Time  // the removal asked of the leader's session
	lbox      *cpLeaderBox
	signer    *cpSigner
	sealIdle  time.Duration
	sizes     []int // signed bytes of c200 and rm
	lead      *cpMember
	refused   int // the leader's commits the chain refused
}

// cpWork is the leader's sealing and posting of one epoch's key.
type cpWork struct {
	seal    time.Duration   // first to last envelope signature
	sealed  int             // envelopes signed
	toFirst time.Duration   // the commit in its block → the first post sent
	post    time.Duration   // first post sent to last answered
	each    []time.Duration // each post's round trip
	failed  int             // posts that failed
}

// leaderWork is the leader's work for commit c: the envelope signatures
// between the commit in its block and the first post, then the posts.
func (r cpRun) leaderWork(c cpCommit) cpWork {
	var w cpWork
	posts := r.lbox.of(c.epoch)
	if len(posts) == 0 {
		return w
	}
	first, last := posts[0].start, posts[0].done
	for _, p := range posts {
		if p.start.Before(first) {
			first = p.start
		}
		last = latLater(last, p.done)
		w.each = append(w.each, p.done.Sub(p.start))
		if p.err != nil {
			w.failed++
		}
	}
	w.seal, w.sealed = r.signer.sealing(c.included, first)
	w.toFirst = first.Sub(c.included)
	w.post = last.Sub(first)
	return w
}

func cpReport(b *testing.B, r cpRun) {
	interval := r.st1.BlockTime.Sub(r.st0.BlockTime) / time.Duration(max(r.st1.Height-r.st0.Height, 1))

	// Joins.
	var joins, realJoins, lightJoins, inBlock, admitted []time.Duration
	firstReq, lastSent := int64(0), time.Time{}
	for _, m := range r.members {
		_, at := m.first()
		d := at.Sub(m.sent)
		joins = append(joins, d)
		if m.real {
			realJoins = append(realJoins, d)
		} else {
			lightJoins = append(lightJoins, d)
		}
		inBlock = append(inBlock, m.requested.Sub(m.sent))
		for _, c := range r.commits {
			if meetingtypes.SenderIndex(cpMembersOf(c), m.p.user, m.p.device) >= 0 {
				admitted = append(admitted, c.included.Sub(m.sent))
				break
			}
		}
		if firstReq == 0 || m.reqHeight < firstReq {
			firstReq = m.reqHeight
		}
		lastSent = latLater(lastSent, m.sent)
	}
	blocks := r.c200.res.Height - firstReq + 1
	joinCommits, biggest, prev := 0, 0, 1
	for _, c := range r.commits {
		if c.epoch < 2 || c.epoch > r.c200.epoch {
			continue
		}
		joinCommits++
		biggest = max(biggest, len(c.members)-prev)
		prev = len(c.members)
	}
	admitAll := r.lastKeyed.Sub(r.start)

	// The removal's rekey.
	var rekeys, realRekeys []time.Duration
	for _, m := range r.members[1:] {
		at, _ := m.installedAt(r.rm.epoch)
		rekeys = append(rekeys, at.Sub(r.rm.sent))
		if m.real {
			realRekeys = append(realRekeys, at.Sub(r.rm.sent))
		}
	}

	// The leader's work per epoch.
	w200, wRm := r.leaderWork(r.c200), r.leaderWork(r.rm)
	failedPosts, problems := 0, 0
	for _, c := range r.commits {
		failedPosts += r.leaderWork(c).failed
	}
	for _, m := range r.members {
		m.mu.Lock()
		problems += m.nproblems
		m.mu.Unlock()
	}
	r.lead.mu.Lock()
	leaderProblems, leaderFirst := r.lead.nproblems, r.lead.problems
	r.lead.mu.Unlock()

	// Where the leader's time between commits goes: the commit sent (its
	// simulation and signing included) → in a block; → the first envelope
	// posted (the tentative reads confirmed by the next header, the new
	// members' records read with proofs, the key sealed); the posts; the
	// last post → the next commit sent (the commit's outcome proven, the
	// request log read, the next roster built).
	for i, c := range r.commits {
		w := r.leaderWork(c)
		next := "-"
		if i+1 < len(r.commits) && len(w.each) > 0 {
			next = latFmt(r.commits[i+1].sent.Sub(c.included.Add(w.toFirst + w.post)))
		}
		b.Logf("controlplane commit: epoch %d (%s) %d members in block %d, gas used %d of %d: sent → in block %s → first post %s (sealing %d: %s) → %d posted %s (each p50 %s max %s; %d failed) → next commit sent %s",
			c.epoch, c.reason, len(c.members), c.res.Height, c.res.GasUsed, c.res.GasWanted, latFmt(c.included.Sub(c.sent)),
			latFmt(w.toFirst), w.sealed, latFmt(w.seal), len(w.each), latFmt(w.post), latFmt(latPercentile(w.each, .5)), latFmt(latPercentile(w.each, 1)), w.failed, next)
	}
	b.Logf("controlplane: joins of %d members over %s on 4 validators (block %s, measured interval %s): all keyed %s after the first request (%s after the last); "+
		"%.2f joins/block over %d blocks, %d join commits (%.1f joins each, at most %d); "+
		"request sent → key installed p50 %s p95 %s (real sessions p50 %s p95 %s, light members p50 %s p95 %s; request in a block p50 %s, its admitting commit in a block p50 %s p95 %s)",
		len(r.members), r.window, r.block, latFmt(interval), latFmt(admitAll), latFmt(r.lastKeyed.Sub(lastSent)),
		float64(len(r.members))/float64(blocks), blocks, joinCommits, float64(len(r.members))/float64(max(joinCommits, 1)), biggest,
		latFmt(latPercentile(joins, .5)), latFmt(latPercentile(joins, .95)),
		latFmt(latPercentile(realJoins, .5)), latFmt(latPercentile(realJoins, .95)),
		latFmt(latPercentile(lightJoins, .5)), latFmt(latPercentile(lightJoins, .95)),
		latFmt(latPercentile(inBlock, .5)), latFmt(latPercentile(admitted, .5)), latFmt(latPercentile(admitted, .95)))
	newIn200 := len(r.c200.members) - len(r.commits[slices.IndexFunc(r.commits, func(c cpCommit) bool { return c.epoch == r.c200.epoch })-1].members)
	b.Logf("controlplane: epoch %d commit at %d members (admitting %d): gas used %d (wanted %d), %d bytes signed; removal commit (epoch %d, %d members, none admitted): gas used %d (wanted %d), %d bytes",
		r.c200.epoch, len(r.c200.members), newIn200, r.c200.res.GasUsed, r.c200.res.GasWanted, r.sizes[0],
		r.rm.epoch, len(r.rm.members), r.rm.res.GasUsed, r.rm.res.GasWanted, r.sizes[1])
	b.Logf("controlplane: rekey after removing %s at %d members: asked → commit sent %s, sent → in block %s; commit sent → the %d others installed p50 %s p95 %s max %s (real sessions p50 %s max %s); "+
		"the removed member's session ended as removed, with no key, envelope or post of epoch %d",
		r.members[0].p.name(), len(r.c200.members), latFmt(r.rm.sent.Sub(r.asked)), latFmt(r.rm.included.Sub(r.rm.sent)), len(rekeys),
		latFmt(latPercentile(rekeys, .5)), latFmt(latPercentile(rekeys, .95)), latFmt(latPercentile(rekeys, 1)),
		latFmt(latPercentile(realRekeys, .5)), latFmt(latPercentile(realRekeys, 1)), r.rm.epoch)
	b.Logf("controlplane: key wrap inside the run: %d envelopes sealed in %s (%.0f µs each), posted in %s; removal: %d in %s, posted %d in %s; "+
		"the same SealAll of those %d keys idle afterwards: %s (median of %d)",
		w200.sealed, latFmt(w200.seal), float64(w200.seal.Microseconds())/float64(max(w200.sealed, 1)), latFmt(w200.post),
		wRm.sealed, latFmt(wRm.seal), len(wRm.each), latFmt(wRm.post), len(w200.each), latFmt(r.sealIdle), cpSealRuns)
	jn, js := r.cpu[1].since(r.cpu[0])
	rn, rs := r.cpu[3].since(r.cpu[2])
	b.Logf("controlplane: CPU (of %d cores): while joining the 4 nodes used %.2f cores and this process %.2f; during the rekey %.2f and %.2f",
		runtime.NumCPU(), jn, js, rn, rs)
	b.Logf("controlplane: %d envelope posts failed, %d commits refused; members reported %d problems, the leader %d %v",
		failedPosts, r.refused, problems, leaderProblems, leaderFirst)

	b.ReportMetric(r.window.Seconds(), "window-s")
	b.ReportMetric(float64(r.reals), "sessions")
	b.ReportMetric(latMS(interval), "interval-ms")
	b.ReportMetric(admitAll.Seconds(), "admit-all-s")
	b.ReportMetric(float64(len(r.members))/float64(blocks), "joins/block")
	b.ReportMetric(float64(len(r.members))/float64(max(joinCommits, 1)), "joins/commit")
	b.ReportMetric(latMS(latPercentile(joins, .5)), "join-p50-ms")
	b.ReportMetric(latMS(latPercentile(joins, .95)), "join-p95-ms")
	b.ReportMetric(latMS(latPercentile(realJoins, .5)), "join-real-p50-ms")
	b.ReportMetric(latMS(latPercentile(realJoins, .95)), "join-real-p95-ms")
	b.ReportMetric(float64(r.c200.res.GasUsed), "commit200-gas")
	b.ReportMetric(float64(r.sizes[0]), "commit200-bytes")
	b.ReportMetric(float64(newIn200), "commit200-admitted")
	b.ReportMetric(float64(r.rm.res.GasUsed), "commitrm-gas")
	b.ReportMetric(float64(r.sizes[1]), "commitrm-bytes")
	b.ReportMetric(latMS(latPercentile(rekeys, .5)), "rekey-p50-ms")
	b.ReportMetric(latMS(latPercentile(rekeys, .95)), "rekey-p95-ms")
	b.ReportMetric(latMS(latPercentile(rekeys, 1)), "rekey-max-ms")
	b.ReportMetric(latMS(w200.seal), "seal199-ms")
	b.ReportMetric(latMS(r.sealIdle), "seal199-idle-ms")
	b.ReportMetric(latMS(w200.post), "post199-ms")
	b.ReportMetric(float64(failedPosts), "post-failures")
}
