package simtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/parleynet/parley/x/meeting/types"
)

var (
	seedFlag   = flag.Uint64("seed", 0, "run TestRandomizedMeetings with this seed only (env SIMTEST_SEED)")
	seedsFlag  = flag.Int("seeds", 0, "run TestRandomizedMeetings with seeds 1..n (env SIMTEST_SEEDS)")
	blocksFlag = flag.Int("blocks", 0, "blocks per seed of TestRandomizedMeetings (env SIMTEST_BLOCKS)")
)

// defaultSeeds and defaultBlocks keep the run well under a minute on a
// shared two-core machine; -seed and -blocks explore further.
var defaultSeeds = []uint64{1, 2, 3, 4, 5}

const (
	defaultBlocks = 150
	numUsers      = 8
)

// simParams are small on purpose, so that within a few hundred blocks
// leaders time out, requests expire, meetings end and are pruned, and the
// EndBlocker runs out of budget.
func simParams() types.Params {
	p := types.DefaultParams()
	p.LeaderTimeoutBlocks = 3
	p.RequestTtlBlocks = 20
	p.RetentionBlocks = 5
	p.EndBlockBudget = 7
	p.MaxParticipants = 12
	p.MaxDurationSeconds = 3600
	// Low enough that busy meetings hit it.
	p.MaxPendingRequests = 4
	return p
}

func seedsAndBlocks(t *testing.T) ([]uint64, int) {
	seeds, blocks := defaultSeeds, defaultBlocks
	if v := os.Getenv("SIMTEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SIMTEST_SEED: %v", err)
		}
		seeds = []uint64{n}
	}
	if *seedFlag != 0 {
		seeds = []uint64{*seedFlag}
	}
	n := *seedsFlag
	if v := os.Getenv("SIMTEST_SEEDS"); v != "" && n == 0 {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("SIMTEST_SEEDS: %v", err)
		}
	}
	if n > 0 {
		seeds = nil
		for i := range n {
			seeds = append(seeds, uint64(i+1))
		}
	}
	if v := os.Getenv("SIMTEST_BLOCKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("SIMTEST_BLOCKS: %v", err)
		}
		blocks = n
	}
	if *blocksFlag != 0 {
		blocks = *blocksFlag
	}
	return seeds, blocks
}

// TestRandomizedMeetings drives both modules with seeded random traffic —
// valid messages and deliberately broken ones — and checks after every
// message that the chain matches a model built from the README, and after
// every block the invariants listed at checkInvariants.
func TestRandomizedMeetings(t *testing.T) {
	seeds, blocks := seedsAndBlocks(t)
	var total stats
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := newRun(t, seed)
			r.simulate(blocks)
			t.Logf("seed %d: %v", seed, r.stats)
			t.Logf("seed %d rejections: %v", seed, r.stats.rejected)
			total.add(r.stats)
		})
	}
	if len(seeds) == len(defaultSeeds) && blocks == defaultBlocks {
		checkCoverage(t, total)
	}
}

// checkCoverage fails unless the default seeds reached every path the
// invariants are about and injected every kind of invalid message.
func checkCoverage(t *testing.T, total stats) {
	t.Helper()
	for _, c := range []struct {
		name string
		n    int
	}{
		{"epochs", total.epochs}, {"claims", total.claims}, {"transfers", total.transfers},
		{"leaves", total.leaves}, {"rotations", total.rotations}, {"ends", total.ended}, {"expiries", total.expired},
		{"request expiries", total.requestsExpired}, {"prunes", total.pruned},
		{"prunes held back", total.prunesHeldBack}, {"revocations", total.revoked},
		{"device additions", total.added}, {"resets", total.resets},
		{"ended probes", total.endedProbes}, {"not-found probes", total.notFoundProbes},
	} {
		if c.n == 0 {
			t.Errorf("the default seeds never exercised %s", c.name)
		}
	}
	for _, err := range []error{
		types.ErrWrongEpoch, types.ErrNotLeader, types.ErrNoRequest, types.ErrInvalidRoster,
		types.ErrNotFirstInLine, types.ErrClaimTooEarly, types.ErrDuplicateRequest, types.ErrNotAllowed,
		types.ErrNotRequested, types.ErrLeaderCannotLeave, types.ErrNotMember, types.ErrTooManyRequests,
		types.ErrMeetingExpired, types.ErrMeetingEnded, types.ErrMeetingNotFound, types.ErrEphKeyReused,
		types.ErrSignatureExpired, types.ErrRosterHashMismatch,
	} {
		if total.rejected[err.Error()] == 0 {
			t.Errorf("the default seeds never injected a message failing with %q", err)
		}
	}
}

func newRun(t *testing.T, seed uint64) *run {
	r := &run{
		t: t, s: newSim(t, simParams()), md: newModel(simParams()),
		rng:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		seed: seed, countedEarly: map[string]bool{},
		stats: stats{rejected: map[string]int{}},
	}
	r.s.nextBlock()
	for i := range numUsers {
		u := &user{id: fmt.Sprintf("user%d", i), owner: addr(t, r.s.ac, byte(0x10+i))}
		first := r.newDevice(u)
		msg := r.s.registerMsg(u, first)
		r.deliver("register "+first.String(), nil, func(ctx context.Context) error {
			_, err := r.s.idMsg.RegisterUser(ctx, msg)
			return err
		})
		u.devices = append(u.devices, first)
		r.md.devices[first.key()] = first
		r.md.users = append(r.md.users, u)
		for range r.intn(3) {
			d := r.newDevice(u)
			msg := r.s.addDeviceMsg(u, r.s.seq(t, u.id), d, first)
			r.deliver("add "+d.String(), nil, func(ctx context.Context) error {
				_, err := r.s.idMsg.AddDevice(ctx, msg)
				return err
			})
			u.devices = append(u.devices, d)
			r.md.devices[d.key()] = d
		}
	}
	r.endBlock()
	return r
}

func (r *run) simulate(blocks int) {
	for b := range blocks {
		r.s.nextBlock()
		for range 1 + r.intn(6) {
			r.randomOp()
		}
		for _, m := range r.md.order {
			switch {
			case !m.pruned && m.status == types.Status_STATUS_ENDED:
				r.probeClosed(m, types.ErrMeetingEnded)
				r.stats.endedProbes++
			case m.isOpen() && r.s.now() >= m.expiresAt:
				// Expired, and ended by this block's EndBlocker.
				r.probeClosed(m, types.ErrMeetingExpired)
			}
		}
		var pruned []*meetingState
		for _, m := range r.md.order {
			if m.pruned {
				pruned = append(pruned, m)
			}
		}
		if len(pruned) > 0 {
			r.probeClosed(pick(r, pruned), types.ErrMeetingNotFound)
			r.stats.notFoundProbes++
		}
		r.compareAll()
		r.endBlock()
		r.checkInvariants()
		r.stats.blocks++
		if b%25 == 24 || b == blocks-1 {
			r.roundTrip()
		}
	}
}

type op struct {
	name   string
	weight int
	run    func(r *run, invalid bool) bool
}

var ops = []op{
	{"create", 10, (*run).opCreate},
	{"request", 26, (*run).opRequest},
	{"commit", 22, (*run).opCommit},
	{"leave", 9, (*run).opLeave},
	{"identity", 7, (*run).opIdentity},
	{"transfer", 6, (*run).opTransfer},
	{"claim", 14, (*run).opClaim},
	{"rotate", 6, (*run).opRotate},
	{"end", 2, (*run).opEnd},
}

// randomOp runs one operation, invalid about one time in five. Meetings
// are created more often while there are few of them.
func (r *run) randomOp() {
	live := len(r.live())
	total := 0
	weight := func(o op) int {
		switch {
		case o.name == "create" && live < 3:
			return 60
		case o.name == "create" && live > 10:
			return 2
		}
		return o.weight
	}
	for _, o := range ops {
		total += weight(o)
	}
	for range 10 {
		n := r.intn(total)
		for _, o := range ops {
			if n -= weight(o); n < 0 {
				if o.run(r, r.intn(5) == 0) {
					return
				}
				break
			}
		}
	}
}
