//go:build bench

package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/localnet"
)

// latNet is a started localnet with every node's RPC and mailbox address.
type latNet struct {
	*localnet.Network
	rpcs, boxes []string
	anchor      verify.Anchor
	// unverified: the parties trust their nodes (--insecure-trust-node), to
	// measure what verification costs.
	unverified bool
}

// latStart builds the working tree's binaries and starts a network of
// validators real parleyd processes, stopped in b.Cleanup.
func latStart(b *testing.B, validators int) *latNet {
	b.Helper()
	bin := localnet.BuildBinaries(b)
	n := localnet.Start(b, localnet.Options{Parleyd: bin.Parleyd, Validators: validators})
	ln := &latNet{Network: n}
	for _, nd := range n.Nodes() {
		ln.rpcs, ln.boxes = append(ln.rpcs, nd.RPC), append(ln.boxes, nd.Mailbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := n.Anchor(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ln.anchor = a
	return ln
}

// latBlockTime is timeout_commit as node 0's config.toml has it (what the
// localnet script wrote), so the report names the block time actually run.
func latBlockTime(n *localnet.Network) string {
	f, err := os.Open(filepath.Join(n.Node(0).Home, "config", "config.toml"))
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "timeout_commit" {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return "unknown"
}

// latRotate lists items starting at index first, so that each party
// starts on a different node of a multi-validator network.
func latRotate(items []string, first int) []string {
	first %= len(items)
	return append(append([]string(nil), items[first:]...), items[:first]...)
}

// latParty is one device with its own paying account, chain client and
// mailbox client; it may run (join) several times, each a latRun.
type latParty struct {
	user, device string
	chain        *verify.Client
	mbox         *mailbox.Client
	dev          meeting.Device
	eph          meeting.EphStore
	chainCfg     verify.Config
	run          *latRun // the latest run, nil before the first
}

func (p *latParty) name() string { return p.user + "/" + p.device }

// latNewParty prepares a device of user on account, its key created in
// store; the chain and mailbox clients start on node first.
func latNewParty(ln *latNet, first int, account, user, device string, store *keystore.Store, ephDir string) (*latParty, error) {
	cfg := verify.Config{
		Chain: chain.Config{
			Nodes: latRotate(ln.rpcs, first), ChainID: ln.ChainID(), KeyringDir: ln.KeyringDir(), KeyringBackend: "test",
			From: account,
		},
		State:      verify.State{Anchor: ln.anchor},
		Unverified: ln.unverified,
	}
	ch, err := latOpen(cfg)
	if err != nil {
		return nil, err
	}
	key, err := store.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
	if err != nil {
		return nil, err
	}
	mb, err := mailbox.New(mailbox.Config{Nodes: latRotate(ln.boxes, first), ChainID: ln.ChainID(), User: user, Device: device, Key: key})
	if err != nil {
		return nil, err
	}
	return &latParty{
		user: user, device: device, chain: ch, mbox: mb,
		dev: meeting.Device{UserID: user, DeviceID: device, Key: key},
		eph: meeting.EphStore{Dir: ephDir}, chainCfg: cfg,
	}, nil
}

// newChain gives the party a new chain client, with no pooled connection:
// as a device that starts now, not one idle since set-up (see
// BenchmarkMeetingsLoad).
func (p *latParty) newChain() error {
	ch, err := latOpen(p.chainCfg)
	if err != nil {
		return err
	}
	if p.chain != nil {
		_ = p.chain.Close()
	}
	p.chain = ch
	return nil
}

func latOpen(cfg verify.Config) (*verify.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return verify.Open(ctx, cfg)
}

func (p *latParty) register(ctx context.Context) error {
	if _, err := identity.Register(ctx, p.chain, p.user, p.device, p.dev.Key); err != nil {
		return fmt.Errorf("registering %s: %w", p.name(), err)
	}
	return nil
}

// latRun is one run of a party's participant: session and call engine.
type latRun struct {
	p    *participant.Participant
	rec  *latRecorder
	done chan struct{} // closed when Run returned

	mu        sync.Mutex
	err       error                // Run's result
	removedAt time.Time            // when the session reported EventRemoved
	keys      map[uint64][]byte    // epoch keys the engine was given
	epochAt   map[uint64]time.Time // when the engine switched to each epoch
	problems  []string             // the last problems the session reported
	nproblems int                  // how many it reported
}

// start runs the party's participant in meeting id until ctx ends or the
// session ends; the party must lead it or have requested to join.
func (p *latParty) start(ctx context.Context, id []byte, video, audio call.Source) (*latRun, error) {
	r := &latRun{rec: newLatRecorder(), done: make(chan struct{}), keys: map[uint64][]byte{}, epochAt: map[uint64]time.Time{}}
	pt, err := participant.New(participant.Config{
		Session: meeting.Config{Chain: p.chain, Mailbox: p.mbox, Device: p.dev, MeetingID: id, Eph: p.eph, OnEvent: r.onEvent},
		Video:   video, Audio: audio, Sinks: r.rec.sinks(), SettingEngine: call.LoopbackSettingEngine(),
		OnEpoch: func(ep meeting.Epoch) {
			r.mu.Lock()
			r.keys[ep.Number] = append([]byte(nil), ep.Key...)
			r.epochAt[ep.Number] = time.Now()
			r.mu.Unlock()
		},
	})
	if err != nil {
		return nil, fmt.Errorf("participant %s: %w", p.name(), err)
	}
	r.p = pt
	p.run = r
	go func() {
		err := pt.Run(ctx)
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(r.done)
	}()
	return r, nil
}

func (r *latRun) onEvent(e meeting.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := e.(type) {
	case meeting.EventRemoved:
		if r.removedAt.IsZero() {
			r.removedAt = time.Now()
		}
	case meeting.EventProblem:
		r.nproblems++
		if len(r.problems) == 8 {
			r.problems = r.problems[1:]
		}
		r.problems = append(r.problems, time.Now().Format("15:04:05.000 ")+e.String())
	}
}

// problemCount is how many problems the session reported, and the last
// few without their times.
func (r *latRun) problemCount() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := make([]string, len(r.problems))
	for i, p := range r.problems {
		_, last[i], _ = strings.Cut(p, " ")
	}
	return r.nproblems, last
}

// firstEpoch is the first epoch the engine was given (0 if none yet).
func (r *latRun) firstEpoch() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first uint64
	for e := range r.keys {
		if first == 0 || e < first {
			first = e
		}
	}
	return first
}

// firstEpochAt is when the engine was given its first epoch.
func (r *latRun) firstEpochAt() (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first uint64
	for e := range r.epochAt {
		if first == 0 || e < first {
			first = e
		}
	}
	t, ok := r.epochAt[first]
	return t, ok
}

func (r *latRun) key(epoch uint64) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[epoch]
}

func (r *latRun) hasEpochFrom(epoch uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for e := range r.keys {
		if e >= epoch {
			return true
		}
	}
	return false
}

// result is when the session reported its removal (zero if it did not)
// and what Run returned (nil while it runs).
func (r *latRun) result() (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removedAt, r.err
}

func (r *latRun) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// describe is a run's state for a failure message.
func (r *latRun) describe(name string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: engine epoch %d", name, r.p.Engine().Epoch())
	for _, s := range r.p.Engine().Stats() {
		fmt.Fprintf(&sb, "; peer %s/%s %s recv-epoch %d decrypted %d rejected %d", s.UserID, s.DeviceID, s.State, s.RecvEpoch, s.FramesDecrypted, s.Rejected.Total())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended() {
		fmt.Fprintf(&sb, "; ended: %v", r.err)
	}
	for _, p := range r.problems {
		fmt.Fprintf(&sb, "\n    problem %s", p)
	}
	return sb.String()
}

// latWaitRuns ends with ctx: it waits (up to limit) for every run to
// return, so that no session outlives the network.
func latWaitRuns(limit time.Duration, runs []*latRun) {
	deadline := time.After(limit)
	for _, r := range runs {
		select {
		case <-r.done:
		case <-deadline:
			return
		}
	}
}
