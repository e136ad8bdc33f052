package node

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
	"github.com/parleynet/parley/node/sfu"
)

// recorder is a relay as the reactor sees it: it records what comes and
// refuses what it is told to.
type recorder struct {
	mu     sync.Mutex
	got    map[string][][]byte // by sender
	gone   []string
	refuse bool
}

func (r *recorder) HandlePeer(from string, msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[from] = append(r.got[from], bytes.Clone(msg))
	if r.refuse {
		return fmt.Errorf("%w: told to refuse", sfu.ErrBadPeerMessage)
	}
	return nil
}

func (r *recorder) PeerGone(from string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = append(r.gone, from)
}

func (r *recorder) count(from string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[from])
}

func (r *recorder) wentAway(from string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.gone {
		if g == from {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Three CometBFT switches with the cascade reactor: Send reaches the
// peer it names, by node ID, Broadcast every peer, each byte for byte; a
// peer whose messages the relay keeps finding malformed is disconnected,
// and the relay hears that it went away.
func TestCascadeReactor(t *testing.T) {
	reactors := make([]*cascadeReactor, 3)
	recorders := make([]*recorder, 3)
	sws := p2p.MakeConnectedSwitches(cmtcfg.TestP2PConfig(), 3, func(i int, sw *p2p.Switch) *p2p.Switch {
		recorders[i] = &recorder{got: map[string][][]byte{}}
		reactors[i] = newCascadeReactor()
		reactors[i].setHandler(recorders[i])
		sw.AddReactor(CascadeReactorName, reactors[i])
		return sw
	}, p2p.Connect2Switches)
	t.Cleanup(func() {
		for _, sw := range sws {
			_ = sw.Stop()
		}
	})
	id := func(i int) string { return string(sws[i].NodeInfo().ID()) }

	msg := func(s string) []byte {
		b, err := (&cascadev1.Message{Body: &cascadev1.Message_Announce{Announce: &cascadev1.Announce{MeetingId: []byte(s), Serving: true}}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !reactors[0].Send(id(1), msg("to one")) {
		t.Fatal("Send to a connected peer not queued")
	}
	if reactors[0].Send("no-such-peer", msg("to none")) {
		t.Error("Send to an unknown peer queued")
	}
	reactors[2].Broadcast(msg("to all"))
	waitUntil(t, "the messages arrive", func() bool {
		return recorders[1].count(id(0)) == 1 && recorders[0].count(id(2)) == 1 && recorders[1].count(id(2)) == 1
	})
	recorders[1].mu.Lock()
	got := recorders[1].got[id(0)][0]
	recorders[1].mu.Unlock()
	if !bytes.Equal(got, msg("to one")) {
		t.Errorf("node 1 got %x, want %x", got, msg("to one"))
	}
	if recorders[2].count(id(0)) != 0 {
		t.Error("Send reached a peer it did not name")
	}

	recorders[1].mu.Lock()
	recorders[1].refuse = true
	recorders[1].mu.Unlock()
	for range cascadeMaxStrikes {
		reactors[0].Send(id(1), msg("refused"))
	}
	waitUntil(t, "node 1 disconnects node 0 and the relays hear of it", func() bool {
		return recorders[1].wentAway(id(0)) && recorders[0].wentAway(id(1))
	})
	if reactors[0].Send(id(1), msg("after")) {
		t.Error("Send to a disconnected peer queued")
	}
}
