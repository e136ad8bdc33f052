// Package relay tests calls carried by the nodes' media relays (node/sfu)
// end to end: real parleyd processes with their relays, and devices run
// in the test's process with the real client.
package relay

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/e2e/party"
	"github.com/parleynet/parley/internal/localnet"
)

// TestTwelveOnOneRelay: twelve members in one meeting on one node's relay.
// The first four are a mesh; from the fifth the call moves to the relay.
// Three speak. Everyone decrypts the three speakers' audio and video, gets
// at most LastN videos and the three loudest audios, and verifies every
// relayed frame's sender signature; no mesh connection remains. A member
// removed mid-call gets nothing of the new epoch, and the relay refuses
// to connect it again.
func TestTwelveOnOneRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node and twelve members")
	}
	bin := localnet.BuildBinaries(t)
	net := localnet.Start(t, localnet.Options{Validators: 1, Parleyd: bin.Parleyd})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := net.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	const lastN = 4
	alice := party.New(t, net, 0, "alice", "alice", "laptop")
	var others []*party.Party
	for _, name := range []string{"bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj"} {
		others = append(others, party.NewGranted(t, net, 0, name, "phone", alice))
	}
	party.Grant(t, alice, others...)
	for _, p := range others {
		p.Register(t)
	}
	all := append([]*party.Party{alice}, others...)
	for _, p := range all {
		p.MediaRelay, p.LastN = true, lastN
	}
	id, _, err := meeting.Create(ctx, alice.Chain, alice.Eph, alice.Dev, meeting.CreateOptions{Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	alice.Join(t, ctx, id)
	for i, p := range others {
		p.WaitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, p.Chain, p.Eph, p.Dev, id, nil); err != nil {
			t.Fatalf("%s's request: %v", p.Name(), err)
		}
		p.Join(t, ctx, id)
		if i == 2 {
			// Four members: the mesh carries them, no relay link.
			four := all[:4]
			party.AllHear(t, 90*time.Second, "the first four to hear each other", 0, four...)
			for _, m := range four {
				if rs := m.P.Engine().Relay(); rs.Node != "" {
					t.Errorf("%s is on the relay of %s with four members", m.Name(), rs.Node)
				}
				for _, s := range m.P.Engine().Stats() {
					if s.State != "connected" {
						t.Errorf("%s's mesh connection with %s/%s is %q", m.Name(), s.UserID, s.DeviceID, s.State)
					}
				}
			}
		}
	}
	speakers := all[:3]
	for _, p := range all[3:] {
		p.Audio.SetAudioLevel(127) // silent
	}
	e := party.AllIn(t, 3*time.Minute, "all twelve in one epoch", 0, all...)
	party.WaitFor(t, 90*time.Second, "everyone to decrypt the three speakers", func() bool {
		for _, p := range all {
			for _, s := range speakers {
				if s != p && !p.Hears(e, 10, s) {
					return false
				}
			}
		}
		return true
	}, relayState(all...))

	// Until the silent ones' hangover ran out at the relay (they spoke
	// until they were set silent, and a speaker keeps its audio slot for
	// a second after its 400 ms score window empties), a speaker's third
	// audio slot may still carry one of them: wait for a second in which
	// none arrives anywhere before measuring.
	party.WaitFor(t, 30*time.Second, "the silent members' audio to stop being forwarded", func() bool {
		before := counts(all, e)
		time.Sleep(time.Second)
		after := counts(all, e)
		for _, p := range all {
			for _, o := range all[3:] {
				if k := p.Name() + ">" + o.Name() + "/audio"; after[k] > before[k] {
					return false
				}
			}
		}
		return true
	}, relayState(all...))

	// Over three seconds, each member takes at most lastN videos and three
	// audios, never its own, and no mesh connection is left.
	before := counts(all, e)
	time.Sleep(3 * time.Second)
	after := counts(all, e)
	for _, p := range all {
		var videos, audios []string
		for _, o := range all {
			k := p.Name() + ">" + o.Name()
			if after[k+"/video"] > before[k+"/video"] {
				videos = append(videos, o.Name())
			}
			if after[k+"/audio"] > before[k+"/audio"] {
				audios = append(audios, o.Name())
			}
		}
		if len(videos) > lastN || len(audios) > 3 {
			t.Errorf("%s received video from %d members %v (last-N %d) and audio from %d %v (at most 3)", p.Name(), len(videos), videos, lastN, len(audios), audios)
		}
		for _, a := range audios {
			if a != speakers[0].Name() && a != speakers[1].Name() && a != speakers[2].Name() {
				t.Errorf("%s received the audio of %s, who is silent, while three others speak", p.Name(), a)
			}
		}
		rs := p.P.Engine().Relay()
		if rs.State != "connected" {
			t.Errorf("%s's relay link is %q", p.Name(), rs.State)
		}
		if sg := rs.Signatures; sg.Verified == 0 || sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 {
			t.Errorf("%s's frame signatures: %+v; cuts %q", p.Name(), rs.Signatures, rs.Cuts)
		}
		for _, s := range p.P.Engine().Stats() {
			if s.State != "" {
				t.Errorf("%s still has a mesh connection with %s/%s (%s)", p.Name(), s.UserID, s.DeviceID, s.State)
			}
			if s.Rejected.Total() != 0 {
				t.Errorf("%s rejected frames of %s/%s: %+v", p.Name(), s.UserID, s.DeviceID, s.Rejected)
			}
		}
	}

	// niaj is removed: the others go on in a new epoch, niaj decrypts
	// nothing of it, and the relay does not take niaj back.
	niaj := all[11]
	alice.P.Session().Remove(niaj.User, niaj.Device)
	stay := all[:11]
	e2 := party.AllIn(t, time.Minute, "the eleven in the epoch without niaj", e, stay...)
	select {
	case err := <-niaj.Done:
		if !party.IsRemoved(err) {
			t.Fatalf("niaj's call ended with %v, want removal", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("niaj was not removed")
	}
	party.WaitFor(t, 60*time.Second, "the eleven to decrypt the speakers in the new epoch", func() bool {
		for _, p := range stay {
			for _, s := range speakers {
				if s != p && !p.Hears(e2, 10, s) {
					return false
				}
			}
		}
		return true
	}, relayState(stay...))
	for _, s := range stay {
		if n := niaj.Frames(s, e2); n != 0 {
			t.Errorf("niaj decrypted %d frames of %s in epoch %d, after the removal", n, s.Name(), e2)
		}
	}
	_, _, err = niaj.Mbox.RelayConnect(ctx, id, "v=0\r\n", "")
	if err == nil || !strings.Contains(err.Error(), mailboxv1.ReasonNotMember) {
		t.Errorf("niaj connecting to the relay after the removal: %v, want %s", err, mailboxv1.ReasonNotMember)
	}
}

// counts snapshots how many frames each party decrypted from each other,
// by kind, in epoch e.
func counts(ps []*party.Party, e uint64) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		for _, o := range ps {
			k := p.Name() + ">" + o.Name()
			out[k+"/video"] = p.Rec.Frames(o.Name(), call.Video, e)
			out[k+"/audio"] = p.Rec.Frames(o.Name(), call.Audio, e)
		}
	}
	return out
}

// relayState says what each party's relay link looks like, for a
// timeout's message.
func relayState(ps ...*party.Party) func() string {
	return func() string {
		var sb strings.Builder
		for _, p := range ps {
			rs := p.P.Engine().Relay()
			fmt.Fprintf(&sb, "\n%s: epoch %d, relay %s %q, sent %d, unattributed %+v, signatures %+v, slots %s",
				p.Name(), p.Epoch(), rs.Node, rs.State, rs.FramesSent, rs.Unattributed, rs.Signatures, rs.Slots)
		}
		return sb.String()
	}
}
