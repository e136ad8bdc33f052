package relay

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/e2e/party"
	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/internal/localnet"
)

// TestRelaysAcrossFourNodes: eight members of one meeting, two on each
// of four nodes' relays, the relays cascading. Three speakers on three
// nodes are decrypted by everyone. Then a node that serves two members,
// one a speaker, but not the leader stops: its members move to another
// node's relay and, in the same epoch and without leaving the meeting,
// everyone decrypts the three speakers again. The node starts again at
// the end.
func TestRelaysAcrossFourNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four nodes and eight members")
	}
	bin := localnet.BuildBinaries(t)
	net := localnet.Start(t, localnet.Options{Validators: 4, Parleyd: bin.Parleyd})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := net.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// Two members on each node: the party's clients start on node first,
	// and its relay is the first node's that answers.
	const stopped = 2
	alice := party.New(t, net, 0, "alice", "alice", "laptop")
	var others []*party.Party
	for i, name := range []string{"bob", "carol", "dave", "erin", "frank", "grace", "heidi"} {
		others = append(others, party.NewGranted(t, net, (i+1)/2, name, "phone", alice))
	}
	party.Grant(t, alice, others...)
	for _, p := range others {
		p.Register(t)
	}
	all := append([]*party.Party{alice}, others...)
	// alice (node 0), carol (node 1) and erin (node 2) speak. Everyone
	// pins them and takes three videos: last-N and speaker detection
	// across relays are node/sfu's tests; here the speakers must be seen,
	// and eight members with all videos would be more than the two cores
	// the test runs on carry.
	speakers := []*party.Party{all[0], all[2], all[4]}
	var pins []ids.DeviceRef
	for _, s := range speakers {
		pins = append(pins, ids.DeviceRef{User: s.User, Device: s.Device})
	}
	for _, p := range all {
		p.MediaRelay, p.LastN = true, len(speakers)
	}
	id, _, err := meeting.Create(ctx, alice.Chain, alice.Eph, alice.Dev, meeting.CreateOptions{Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	alice.Join(t, ctx, id)
	for _, p := range others {
		p.WaitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, p.Chain, p.Eph, p.Dev, id, nil); err != nil {
			t.Fatalf("%s's request: %v", p.Name(), err)
		}
		p.Join(t, ctx, id)
	}
	for _, p := range all {
		p.P.Engine().Pin(pins...)
		if !isOneOf(p, speakers) {
			p.Audio.SetAudioLevel(127)
		}
	}
	e := party.AllIn(t, 3*time.Minute, "all eight in one epoch", 0, all...)
	party.WaitFor(t, 90*time.Second, "everyone to decrypt the three speakers across the relays", func() bool {
		return allHear(all, speakers, e, nil)
	}, relayState(all...))
	nodeOf := map[*party.Party]string{}
	for i, p := range all {
		rs := p.P.Engine().Relay()
		nodeOf[p] = rs.Node
		if want := net.Node(i / 2).Mailbox; rs.Node != want {
			t.Logf("%s is on the relay of %s, not of its first node %s", p.Name(), rs.Node, want)
		}
	}
	var moving []*party.Party
	for _, p := range all {
		if nodeOf[p] == net.Node(stopped).Mailbox {
			moving = append(moving, p)
		}
	}
	if len(moving) == 0 || nodeOf[alice] == net.Node(stopped).Mailbox || !isOneOf(all[4], moving) {
		t.Fatalf("node %d serves %v, alice is on %s: want erin and not alice on it", stopped, names(moving), nodeOf[alice])
	}

	// Node 2 stops. Its members move; everyone hears the speakers again,
	// in the same epoch.
	stopAt := time.Now()
	if err := net.StopNode(stopped); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	before := counts(all, e)
	party.WaitFor(t, 60*time.Second, "everyone to decrypt the three speakers again after the node stopped", func() bool {
		for _, p := range moving {
			if rs := p.P.Engine().Relay(); rs.Node == nodeOf[p] || rs.State != "connected" {
				return false
			}
		}
		return allHear(all, speakers, e, before)
	}, relayState(all...))
	took := time.Since(stopAt)
	t.Logf("node %d stopped in %v; %v after the stop began, all eight decrypt the three speakers again in epoch %d",
		stopped, stoppedAt.Sub(stopAt).Round(10*time.Millisecond), took.Round(10*time.Millisecond), e)
	for _, p := range moving {
		rs := p.P.Engine().Relay()
		t.Logf("%s moved from the relay of %s to that of %s (%d reconnects)", p.Name(), nodeOf[p], rs.Node, rs.Reconnects)
	}
	for _, p := range all {
		if p.Epoch() != e {
			t.Errorf("%s is in epoch %d after the move, want %d", p.Name(), p.Epoch(), e)
		}
		select {
		case err := <-p.Done:
			t.Errorf("%s's call ended: %v", p.Name(), err)
		default:
		}
		rs := p.P.Engine().Relay()
		if sg := rs.Signatures; sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 {
			var cut []string
			for _, s := range p.P.Engine().Stats() {
				if s.Rejected.Unsigned > 0 {
					cut = append(cut, fmt.Sprintf("%s/%s (%d frames)", s.UserID, s.DeviceID, s.Rejected.Unsigned))
				}
			}
			t.Errorf("%s's frame signatures: %+v; frames dropped as unsigned from %v", p.Name(), sg, cut)
		}
	}

	if err := net.StartNode(stopped); err != nil {
		t.Fatal(err)
	}
	h, err := net.MaxHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := net.WaitNodeHeight(ctx, stopped, h); err != nil {
		t.Fatalf("node %d after its restart: %v", stopped, err)
	}
}

// allHear reports whether every party decrypts at least 10 video and 10
// audio frames of every speaker but itself in epoch e, more than it had
// in before (nothing, if nil).
func allHear(all, speakers []*party.Party, e uint64, before map[string]int) bool {
	for _, p := range all {
		for _, s := range speakers {
			if s == p {
				continue
			}
			k := p.Name() + ">" + s.Name()
			if p.Rec.Frames(s.Name(), call.Video, e)-before[k+"/video"] < 10 || p.Rec.Frames(s.Name(), call.Audio, e)-before[k+"/audio"] < 10 {
				return false
			}
		}
	}
	return true
}

func isOneOf(p *party.Party, ps []*party.Party) bool {
	for _, o := range ps {
		if o == p {
			return true
		}
	}
	return false
}

func names(ps []*party.Party) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name())
	}
	return fmt.Sprint(strings.Join(out, ", "))
}
