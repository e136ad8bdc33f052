package faults

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/localnet"
)

// party is one device in the meeting, run in this process: its own chain
// client and mailbox client, each with every node of the network in its
// own order, so that each party starts on a different node.
type party struct {
	user, device string
	chain        *verify.Client
	mbox         *mailbox.Client
	dev          meeting.Device
	eph          meeting.EphStore
	rec          *calltest.Recorder
	p            *participant.Participant
	done         chan error

	mu       sync.Mutex
	problems []string
	events   []string
}

func (p *party) name() string { return p.user + "/" + p.device }

// rotate lists items starting at index first.
func rotate(items []string, first int) []string {
	return append(append([]string(nil), items[first:]...), items[:first]...)
}

func newParty(t *testing.T, net *localnet.Network, first int, account, user, device string) *party {
	t.Helper()
	var rpcs, boxes []string
	for _, n := range net.Nodes() {
		rpcs, boxes = append(rpcs, n.RPC), append(boxes, n.Mailbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	anchor, err := net.Anchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := verify.Open(ctx, verify.Config{
		Chain: chain.Config{
			Nodes: rotate(rpcs, first), ChainID: net.ChainID(), KeyringDir: net.KeyringDir(), KeyringBackend: "test",
			From: account, HaltAfter: 4 * time.Second,
		},
		State: verify.State{Anchor: anchor},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.Register(ctx, ch, user, device, key); err != nil {
		t.Fatalf("register %s/%s: %v", user, device, err)
	}
	mb, err := mailbox.New(mailbox.Config{Nodes: rotate(boxes, first), ChainID: net.ChainID(), User: user, Device: device, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return &party{
		user: user, device: device, chain: ch, mbox: mb,
		dev: meeting.Device{UserID: user, DeviceID: device, Key: key},
		eph: meeting.EphStore{Dir: filepath.Join(t.TempDir(), "meetings")},
		rec: calltest.NewRecorder(),
	}
}

// join runs the party's session and call in meeting id (after a request,
// unless it leads).
func (p *party) join(t *testing.T, ctx context.Context, id []byte) {
	t.Helper()
	video, err := call.NewSyntheticSource(call.Video, 150_000, 15)
	if err != nil {
		t.Fatal(err)
	}
	audio, err := call.NewSyntheticSource(call.Audio, 32_000, 50)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := participant.New(participant.Config{
		Session: meeting.Config{Chain: p.chain, Mailbox: p.mbox, Device: p.dev, MeetingID: id, Eph: p.eph, OnEvent: p.onEvent},
		Video:   video, Audio: audio, Sinks: p.rec.Sinks(), SettingEngine: call.LoopbackSettingEngine(),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.p, p.done = pt, make(chan error, 1)
	go func() { p.done <- pt.Run(ctx) }()
}

func (p *party) onEvent(e meeting.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr, ok := e.(meeting.EventProblem); ok {
		p.problems = append(p.problems, pr.String())
	}
	// The last events, with their time, are printed when the parties do
	// not hear each other in time.
	p.events = append(p.events, time.Now().Format("15:04:05.000")+" "+e.String())
	if len(p.events) > 40 {
		p.events = p.events[1:]
	}
}

// epoch is the epoch the party's call engine is on.
func (p *party) epoch() uint64 { return p.p.Engine().Epoch() }

// hears reports whether p decrypted at least n video and n audio frames
// from each of others in epoch (any epoch if 0).
func (p *party) hears(epoch uint64, n int, others ...*party) bool {
	for _, o := range others {
		if p.rec.Frames(o.name(), call.Video, epoch) < n || p.rec.Frames(o.name(), call.Audio, epoch) < n {
			return false
		}
	}
	return true
}

// frames is the total p decrypted from o in epoch.
func (p *party) frames(o *party, epoch uint64) int {
	return p.rec.Frames(o.name(), call.Video, epoch) + p.rec.Frames(o.name(), call.Audio, epoch)
}

// waitFor waits until cond holds; state, if given, says what was seen
// when it did not.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			seen := ""
			for _, f := range state {
				seen += f()
			}
			t.Fatalf("timed out after %v waiting for %s%s", d, what, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allHear waits until every party is in one epoch after the epoch
// "after" and decrypts every other in it, and returns that epoch.
func allHear(t *testing.T, d time.Duration, what string, after uint64, ps ...*party) uint64 {
	t.Helper()
	var e uint64
	waitFor(t, d, what, func() bool {
		e = ps[0].epoch()
		for _, p := range ps {
			if p.epoch() != e || e <= after {
				return false
			}
		}
		for _, p := range ps {
			for _, o := range ps {
				if p != o && !p.hears(e, 10, o) {
					return false
				}
			}
		}
		return e > 0
	}, func() string {
		var sb strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&sb, "\n%s: epoch %d, sending under %d, transitions %+v, chain node %s", p.name(), p.epoch(), p.p.Engine().SendEpoch(), p.p.Engine().KeyTransitions(), p.chain.Node())
			p.mu.Lock()
			for _, ev := range p.events {
				fmt.Fprintf(&sb, "\n  event %s", ev)
			}
			p.mu.Unlock()
			for _, s := range p.p.Engine().Stats() {
				fmt.Fprintf(&sb, "\n  %s/%s %s recv-epoch %d decrypted %d rejected %+v before-join %d", s.UserID, s.DeviceID, s.State, s.RecvEpoch, s.FramesDecrypted, s.Rejected, s.BeforeJoin)
			}
		}
		return sb.String()
	})
	return e
}

func isRemoved(err error) bool { return errors.Is(err, meeting.ErrRemoved) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// waitMeeting waits until the node p's client uses has the meeting: each
// party reads its own node, which may be a block behind the creator's.
func (p *party) waitMeeting(t *testing.T, ctx context.Context, id []byte) {
	t.Helper()
	waitFor(t, 20*time.Second, p.name()+"'s node to have the meeting", func() bool {
		snap, err := p.chain.Reader().Latest(ctx)
		if err != nil {
			return false
		}
		_, err = snap.Meeting(ctx, id)
		return err == nil
	})
}
