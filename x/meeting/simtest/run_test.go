package simtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// run is one seeded simulation: the chain, the model and the generator.
type run struct {
	t     *testing.T
	s     *sim
	md    *model
	rng   *rand.Rand
	seed  uint64
	seq   uint64 // number of messages delivered so far
	trace []string
	stats stats
	// countedEarly dedupes stats.readmittedEarly.
	countedEarly map[string]bool
}

type stats struct {
	blocks, created, requests, epochs, claims, transfers, leaves, ended int
	rotations                                                           int
	expired, requestsExpired, pruned, revoked, added, resets            int
	prunesHeldBack                                                      int
	injected, endedProbes, notFoundProbes                               int
	// readmittedEarly counts members that came back after being left out
	// of an epoch with a request they made before that epoch (after
	// leaving the one before it). The README allows it; it is counted to
	// show the case is exercised.
	readmittedEarly int
	// rejected counts the rejections by error.
	rejected map[string]int
}

func (a *stats) add(b stats) {
	a.blocks += b.blocks
	a.created += b.created
	a.requests += b.requests
	a.epochs += b.epochs
	a.claims += b.claims
	a.transfers += b.transfers
	a.leaves += b.leaves
	a.ended += b.ended
	a.rotations += b.rotations
	a.expired += b.expired
	a.requestsExpired += b.requestsExpired
	a.pruned += b.pruned
	a.revoked += b.revoked
	a.added += b.added
	a.resets += b.resets
	a.prunesHeldBack += b.prunesHeldBack
	a.injected += b.injected
	a.endedProbes += b.endedProbes
	a.notFoundProbes += b.notFoundProbes
	a.readmittedEarly += b.readmittedEarly
	if a.rejected == nil {
		a.rejected = map[string]int{}
	}
	for k, v := range b.rejected {
		a.rejected[k] += v
	}
}

func (s stats) String() string {
	return fmt.Sprintf("blocks=%d meetings=%d requests=%d epochs=%d claims=%d transfers=%d leaves=%d rotations=%d "+
		"ended=%d expired=%d requests_expired=%d pruned=%d prunes_held_back=%d revoked=%d devices_added=%d resets=%d "+
		"failures_injected=%d ended_probes=%d not_found_probes=%d readmitted_with_earlier_request=%d",
		s.blocks, s.created, s.requests, s.epochs, s.claims, s.transfers, s.leaves, s.rotations,
		s.ended, s.expired, s.requestsExpired, s.pruned, s.prunesHeldBack, s.revoked, s.added, s.resets,
		s.injected, s.endedProbes, s.notFoundProbes, s.readmittedEarly)
}

const traceLen = 60

func (r *run) logf(format string, args ...any) {
	line := fmt.Sprintf("h=%d #%d ", r.s.height(), r.seq) + fmt.Sprintf(format, args...)
	if len(r.trace) == traceLen {
		r.trace = slices.Delete(r.trace, 0, 1)
	}
	r.trace = append(r.trace, line)
}

func (r *run) dumpTrace() {
	r.t.Helper()
	r.t.Logf("last %d steps of seed %d (rerun: go test ./x/meeting/simtest/ -run TestRandomizedMeetings -seed %d):\n  %s",
		len(r.trace), r.seed, r.seed, strings.Join(r.trace, "\n  "))
}

func (r *run) fatalf(format string, args ...any) {
	r.t.Helper()
	r.dumpTrace()
	r.t.Fatalf("seed %d, height %d, message #%d: %s", r.seed, r.s.height(), r.seq, fmt.Sprintf(format, args...))
}

func (r *run) must(err error, what string) {
	r.t.Helper()
	if err != nil {
		r.fatalf("%s: %v", what, err)
	}
}

func isOneOf(err error, want []error) bool {
	for _, w := range want {
		if errors.Is(err, w) {
			return true
		}
	}
	return false
}

// deliver sends one message. With no wanted errors it must succeed. With
// some, it must fail with one of them and leave everything as it was: the
// module's exported genesis, both modules' raw stores (indexes, queues and
// counters included) and the event log.
func (r *run) deliver(desc string, want wants, call func(ctx context.Context) error) bool {
	r.t.Helper()
	r.seq++
	ctx := r.s.ctx.WithEventManager(sdk.NewEventManager())
	if len(want) == 0 {
		err := call(ctx)
		r.logf("%s -> %v", desc, errString(err))
		if err != nil {
			r.fatalf("a message the README allows failed: %s: %v", desc, err)
		}
		return true
	}
	r.stats.injected++
	before := r.s.exportBytes(r.t)
	rawMeeting, rawIdentity := rawStore(r.s.ctx, r.s.mtKey), rawStore(r.s.ctx, r.s.idKey)
	err := call(ctx)
	r.logf("%s -> %v (want one of %v)", desc, errString(err), errStrings(want))
	if err == nil {
		r.fatalf("a message the README forbids succeeded: %s (breaks: %v)", desc, errStrings(want))
	}
	if !isOneOf(err, want) {
		r.fatalf("%s: got error %q, want one of %v", desc, err, errStrings(want))
	}
	for _, w := range want {
		if errors.Is(err, w) {
			r.stats.rejected[w.Error()]++
			break
		}
	}
	if after := r.s.exportBytes(r.t); !bytes.Equal(before, after) {
		r.fatalf("rejected %s changed the exported genesis", desc)
	}
	if d := firstDiff(rawMeeting, rawStore(r.s.ctx, r.s.mtKey)); d != "" {
		r.fatalf("rejected %s changed x/meeting's store: %s", desc, d)
	}
	if d := firstDiff(rawIdentity, rawStore(r.s.ctx, r.s.idKey)); d != "" {
		r.fatalf("rejected %s changed x/identity's store: %s", desc, d)
	}
	if evs := ctx.EventManager().Events(); len(evs) > 0 {
		r.fatalf("rejected %s emitted %d events (first %s)", desc, len(evs), evs[0].Type)
	}
	return false
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func errStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

// --- end of block -------------------------------------------------------------------

// lag bounds how many blocks the EndBlocker may take, with its budget, to
// expire, end or prune something that is due. It is far above what the
// simulation's load needs; crossing it means a queue is stuck.
const lag = 40

// endBlock runs the EndBlocker and checks every change it made against the
// README: only meetings past expires_at end, only requests pending longer
// than request_ttl_blocks or of such a meeting expire, only ended meetings
// past retention (and past their creation's valid_until) go. It then
// applies those changes to the model.
func (r *run) endBlock() {
	r.t.Helper()
	s, md := r.s, r.md
	r.must(s.meeting.EndBlocker(s.ctx), "EndBlocker")
	h, now := s.height(), s.now()
	for _, m := range md.order {
		if m.pruned {
			continue
		}
		c, err := s.meeting.Meetings.Get(s.ctx, m.id)
		if errors.Is(err, collections.ErrNotFound) {
			if !md.prunable(m, h, now) {
				r.fatalf("meeting %x disappeared too early (status %v, ended at %d, creation valid until %d)",
					m.id, m.status, m.endedHeight, m.createValidUntil)
			}
			m.pruned = true
			r.stats.pruned++
			r.logf("EndBlocker pruned %x", m.id[:4])
			continue
		}
		r.must(err, "read meeting")
		if m.isOpen() && c.Status == types.Status_STATUS_ENDED {
			if now < m.expiresAt || c.EndedHeight != h {
				r.fatalf("EndBlocker ended meeting %x at height %d, time %d; it expires at %d", m.id, c.EndedHeight, now, m.expiresAt)
			}
			m.applyEnd(h)
			r.stats.expired++
			r.logf("EndBlocker expired meeting %x", m.id[:4])
		}
		if md.pruneDue(m, h) && now < m.createValidUntil && !m.heldBack {
			m.heldBack = true
			r.stats.prunesHeldBack++
		}
		if !m.isOpen() {
			continue
		}
		for _, k := range sortedKeys(m.reqs) {
			rq := m.reqs[k]
			if rq.status != types.RequestStatus_REQUEST_STATUS_PENDING {
				continue
			}
			c, err := s.meeting.Requests.Get(s.ctx, collections.Join(m.id, k))
			r.must(err, "read request")
			if c.Status == types.RequestStatus_REQUEST_STATUS_EXPIRED {
				// Past its TTL, or the first part of ending an expired
				// meeting, which may take several blocks' budgets.
				if h-rq.height <= int64(md.params.RequestTtlBlocks) && now < m.expiresAt {
					r.fatalf("EndBlocker expired request %s of %x made at height %d, within the TTL", k, m.id, rq.height)
				}
				rq.status = types.RequestStatus_REQUEST_STATUS_EXPIRED
				r.stats.requestsExpired++
			}
		}
	}
	for _, m := range md.order {
		switch {
		case m.isOpen() && now >= m.expiresAt+lag:
			r.fatalf("meeting %x expired at %d and is still open at %d", m.id, m.expiresAt, now)
		case !m.pruned && md.prunable(m, h-lag, now-lag):
			r.fatalf("meeting %x ended at height %d (creation valid until %d) and is still not pruned", m.id, m.endedHeight, m.createValidUntil)
		}
		for _, k := range sortedKeys(m.reqs) {
			if rq := m.reqs[k]; m.isOpen() && rq.status == types.RequestStatus_REQUEST_STATUS_PENDING &&
				h-rq.height > int64(md.params.RequestTtlBlocks)+lag {
				r.fatalf("request %s of %x pending since height %d never expired", k, m.id, rq.height)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// compareMeeting checks that the chain holds exactly what the model
// expects of one meeting. A meeting being pruned may have lost requests
// and epochs, but never gained or changed any.
func (r *run) compareMeeting(m *meetingState) {
	r.t.Helper()
	s := r.s
	c, err := s.meeting.Meetings.Get(s.ctx, m.id)
	if m.pruned {
		if err == nil {
			r.fatalf("pruned meeting %x is back", m.id)
		}
		return
	}
	r.must(err, fmt.Sprintf("read meeting %x", m.id))
	const format = "status=%v leader=%s/%s changes=%d epoch=%d rekey_due=%d created=%d expires=%d ended=%d valid_until=%d policy=(%d,%v,%v) request_seq=%d"
	got := fmt.Sprintf(format, c.Status, c.LeaderUser, c.LeaderDevice, c.LeaderChanges, c.Epoch, c.RekeyDueHeight,
		c.CreatedHeight, c.ExpiresAt, c.EndedHeight, c.CreateValidUntil,
		c.Policy.MaxParticipants, c.Policy.Allowlist, c.Policy.PasscodeRequired, c.RequestSeq)
	want := fmt.Sprintf(format, m.status, m.leader.user, m.leader.id, m.leaderChanges, m.epoch, m.rekeyDue,
		m.createdHeight, m.expiresAt, m.endedHeight, m.createValidUntil,
		m.policy.MaxParticipants, m.policy.Allowlist, m.policy.PasscodeRequired, len(m.log))
	if got != want {
		r.fatalf("meeting %x: chain has %s, model expects %s", m.id, got, want)
	}
	if !bytes.Equal(c.LeaderEphPk, m.leaderEph) {
		r.fatalf("meeting %x: leader_eph_pk differs from the model's", m.id)
	}
	pruning := r.md.prunable(m, s.height(), s.now())
	n := 0
	err = s.meeting.Requests.Walk(s.ctx, collections.NewPrefixedPairRange[[]byte, string](m.id),
		func(key collections.Pair[[]byte, string], c types.JoinRequest) (bool, error) {
			n++
			rq := m.reqs[key.K2()]
			switch {
			case rq == nil:
				r.fatalf("meeting %x: unexpected request %s (%v)", m.id, key.K2(), c.Status)
			case c.Status != rq.status || c.Height != rq.height || !bytes.Equal(c.EphPk, rq.eph) || c.Seq != rq.seq:
				r.fatalf("meeting %x: request %s is %v@%d seq %d, model expects %v@%d seq %d (same key: %v)",
					m.id, key.K2(), c.Status, c.Height, c.Seq, rq.status, rq.height, rq.seq, bytes.Equal(c.EphPk, rq.eph))
			}
			return false, nil
		})
	r.must(err, "walk requests")
	if !pruning && n != len(m.reqs) {
		r.fatalf("meeting %x: %d requests, model expects %d", m.id, n, len(m.reqs))
	}
	n = 0
	err = s.meeting.RequestLog.Walk(s.ctx, collections.NewPrefixedPairRange[[]byte, uint64](m.id),
		func(key collections.Pair[[]byte, uint64], e types.RequestLogEntry) (bool, error) {
			n++
			if seq := key.K2(); seq == 0 || seq > uint64(len(m.log)) || e != m.log[seq-1] {
				r.fatalf("meeting %x: log entry %d is %v, model expects entries 1..%d", m.id, seq, e, len(m.log))
			}
			return false, nil
		})
	r.must(err, "walk request log")
	if !pruning && n != len(m.log) {
		r.fatalf("meeting %x: %d log entries, model expects %d", m.id, n, len(m.log))
	}
	if m.epoch > 0 && !pruning {
		e, err := s.meeting.Epochs.Get(s.ctx, collections.Join(m.id, m.epoch))
		r.must(err, fmt.Sprintf("read epoch %d of %x", m.epoch, m.id))
		if !sameMembers(e.Members, m.roster) {
			r.fatalf("meeting %x epoch %d: members %v, model expects %v", m.id, m.epoch, e.Members, m.roster)
		}
	}
}

func (r *run) compareAll() {
	r.t.Helper()
	for _, m := range r.md.order {
		r.compareMeeting(m)
	}
}
