// Package party runs the devices of end-to-end tests in the test's own
// process against real parleyd nodes (internal/localnet): each party has
// its own chain client, mailbox client, keys, and a participant (meeting
// session and call engine) with synthetic media and a recorder.
package party

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/org"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/localnet"
)

// party is one device in the meeting, run in this process: its own chain
// client and mailbox client, each with every node of the network in its
// own order, so that each party starts on a different node.
type Party struct {
	User, Device string
	Chain        *verify.Client
	Mbox         *mailbox.Client
	Dev          meeting.Device
	Eph          meeting.EphStore
	Rec          *calltest.Recorder
	P            *participant.Participant
	Done         chan error
	// MediaRelay, set before Join, lets the call use the nodes' media
	// relays (client/mailbox's MediaRelay), LastN videos from them.
	MediaRelay bool
	LastN      int
	// Audio is the synthetic audio source Join gave the call: its level
	// (SetAudioLevel) says who speaks.
	Audio *call.SyntheticSource

	mu       sync.Mutex
	problems []string
	events   []string
}

// Name is "user/device".
func (p *Party) Name() string { return p.User + "/" + p.Device }

// rotate lists items starting at index first.
func rotate(items []string, first int) []string {
	return append(append([]string(nil), items[first:]...), items[:first]...)
}

// New makes a registered device user/device paying with the test keyring
// account, its clients starting on node first.
func New(t *testing.T, net *localnet.Network, first int, account, user, device string) *Party {
	t.Helper()
	p := open(t, net, first, chain.Config{From: account}, user, device)
	p.Register(t)
	return p
}

// NewGranted makes a device user/device that pays with its own derived
// account, whose fees granter's account must grant (Grant) before it
// registers (Register).
func NewGranted(t *testing.T, net *localnet.Network, first int, user, device string, granter *Party) *Party {
	t.Helper()
	return open(t, net, first, chain.Config{FeeGranter: granter.Chain.Account()}, user, device)
}

// open makes the device's key and clients; cc names who pays.
func open(t *testing.T, net *localnet.Network, first int, cc chain.Config, user, device string) *Party {
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
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	cc.Nodes, cc.ChainID, cc.HaltAfter = rotate(rpcs, first), net.ChainID(), 4*time.Second
	if cc.From != "" {
		cc.KeyringDir, cc.KeyringBackend = net.KeyringDir(), "test"
	} else if cc.AccountKey, err = key.AccountKey(); err != nil {
		t.Fatal(err)
	}
	ch, err := verify.Open(ctx, verify.Config{Chain: cc, State: verify.State{Anchor: anchor}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	mb, err := mailbox.New(mailbox.Config{Nodes: rotate(boxes, first), ChainID: net.ChainID(), User: user, Device: device, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return &Party{
		User: user, Device: device, Chain: ch, Mbox: mb,
		Dev: meeting.Device{UserID: user, DeviceID: device, Key: key},
		Eph: meeting.EphStore{Dir: filepath.Join(t.TempDir(), "meetings")},
		Rec: calltest.NewRecorder(),
	}
}

// Register registers the party's user and device key on chain.
func (p *Party) Register(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := identity.Register(ctx, p.Chain, p.User, p.Device, p.Dev.Key); err != nil {
		t.Fatalf("register %s: %v", p.Name(), err)
	}
}

// Grant has granter's account pay the fees of the parties' own accounts
// (Parley's messages only), in one transaction.
func Grant(t *testing.T, granter *Party, parties ...*Party) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs := make([]sdk.Msg, 0, len(parties))
	for _, p := range parties {
		m, err := org.Grant{}.Msg(granter.Chain.Account(), p.Chain.Account(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if _, err := granter.Chain.Broadcast(ctx, msgs...); err != nil {
		t.Fatalf("grants from %s: %v", granter.Name(), err)
	}
}

// Join runs the party's session and call in meeting id (after a request,
// unless it leads).
func (p *Party) Join(t *testing.T, ctx context.Context, id []byte) {
	t.Helper()
	video, err := call.NewSyntheticSource(call.Video, 150_000, 15)
	if err != nil {
		t.Fatal(err)
	}
	audio, err := call.NewSyntheticSource(call.Audio, 32_000, 50)
	if err != nil {
		t.Fatal(err)
	}
	p.Audio = audio
	var relay call.MediaRelayDialer
	if p.MediaRelay {
		relay = p.Mbox.MediaRelay(id)
	}
	pt, err := participant.New(participant.Config{
		Session: meeting.Config{Chain: p.Chain, Mailbox: p.Mbox, Device: p.Dev, MeetingID: id, Eph: p.Eph, OnEvent: p.onEvent},
		Video:   video, Audio: audio, Sinks: p.Rec.Sinks(), SettingEngine: call.LoopbackSettingEngine(),
		MediaRelay: relay, LastN: p.LastN,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.P, p.Done = pt, make(chan error, 1)
	go func() { p.Done <- pt.Run(ctx) }()
}

func (p *Party) onEvent(e meeting.Event) {
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

// Epoch is the epoch the party's call engine is on.
func (p *Party) Epoch() uint64 { return p.P.Engine().Epoch() }

// Hears reports whether p decrypted at least n video and n audio frames
// from each of others in epoch (any epoch if 0).
func (p *Party) Hears(epoch uint64, n int, others ...*Party) bool {
	for _, o := range others {
		if p.Rec.Frames(o.Name(), call.Video, epoch) < n || p.Rec.Frames(o.Name(), call.Audio, epoch) < n {
			return false
		}
	}
	return true
}

// Frames is the total p decrypted from o in epoch.
func (p *Party) Frames(o *Party, epoch uint64) int {
	return p.Rec.Frames(o.Name(), call.Video, epoch) + p.Rec.Frames(o.Name(), call.Audio, epoch)
}

// WaitFor waits until cond holds; state, if given, says what was seen
// when it did not.
func WaitFor(t *testing.T, d time.Duration, what string, cond func() bool, state ...func() string) {
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

// AllHear waits until every party is in one epoch after the epoch
// "after" and decrypts every other in it, and returns that epoch.
func AllHear(t *testing.T, d time.Duration, what string, after uint64, ps ...*Party) uint64 {
	t.Helper()
	var e uint64
	WaitFor(t, d, what, func() bool {
		e = ps[0].Epoch()
		for _, p := range ps {
			if p.Epoch() != e || e <= after {
				return false
			}
		}
		for _, p := range ps {
			for _, o := range ps {
				if p != o && !p.Hears(e, 10, o) {
					return false
				}
			}
		}
		return e > 0
	}, func() string {
		var sb strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&sb, "\n%s: epoch %d, sending under %d, transitions %+v, chain node %s", p.Name(), p.Epoch(), p.P.Engine().SendEpoch(), p.P.Engine().KeyTransitions(), p.Chain.Node())
			p.mu.Lock()
			for _, ev := range p.events {
				fmt.Fprintf(&sb, "\n  event %s", ev)
			}
			p.mu.Unlock()
			for _, s := range p.P.Engine().Stats() {
				fmt.Fprintf(&sb, "\n  %s/%s %s recv-epoch %d decrypted %d rejected %+v before-join %d", s.UserID, s.DeviceID, s.State, s.RecvEpoch, s.FramesDecrypted, s.Rejected, s.BeforeJoin)
			}
		}
		return sb.String()
	})
	return e
}

func IsRemoved(err error) bool { return errors.Is(err, meeting.ErrRemoved) }

func Contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// WaitMeeting waits until the node p's client uses has the meeting: each
// party reads its own node, which may be a block behind the creator's.
func (p *Party) WaitMeeting(t *testing.T, ctx context.Context, id []byte) {
	t.Helper()
	WaitFor(t, 20*time.Second, p.Name()+"'s node to have the meeting", func() bool {
		snap, err := p.Chain.Reader().Latest(ctx)
		if err != nil {
			return false
		}
		_, err = snap.Meeting(ctx, id)
		return err == nil
	})
}

// AllIn waits until every party's call is in one epoch after the epoch
// "after", and returns it.
func AllIn(t *testing.T, d time.Duration, what string, after uint64, ps ...*Party) uint64 {
	t.Helper()
	var e uint64
	WaitFor(t, d, what, func() bool {
		e = ps[0].Epoch()
		for _, p := range ps {
			if p.P == nil || p.Epoch() != e {
				return false
			}
		}
		return e > after
	}, func() string {
		var sb strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&sb, "\n%s: epoch %d", p.Name(), p.Epoch())
		}
		return sb.String()
	})
	return e
}
