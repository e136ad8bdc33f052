package call_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// TestRekeyWithoutGlitch: alice, bob and carol learn of epoch 2 300 ms
// apart, as members of a real meeting do. Nobody may drop a frame at the
// switch: each keeps sending under epoch 1 until the others hold epoch 2.
// Then carol stalls (never installs epoch 3): alice and bob move to epoch
// 3 after the bounded transition all the same. Then carol is removed
// (epoch 4): alice and bob do not wait for her; she comes back with a new
// engine (epoch 5), and her word counts.
func TestRekeyWithoutGlitch(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const transition = time.Second
	mod := func(c *call.Config) { c.KeyTransition = transition }
	alice := startPartyWith(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true, mod)
	bob := startPartyWith(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true, mod)
	carol := startPartyWith(t, ctx, calltest.NewDevice(t, "carol", "tablet"), vn, netw, true, mod)
	parties := []*party{alice, bob, carol}
	defer func() {
		for _, p := range parties {
			p.stop(t)
		}
	}()
	flowing := func(epoch uint64, ps ...*party) func() bool {
		return func() bool {
			for _, rx := range ps {
				for _, tx := range ps {
					if rx != tx && (rx.rec.Frames(tx.name(), call.Video, epoch) < 10 || rx.rec.Frames(tx.name(), call.Audio, epoch) < 10) {
						return false
					}
				}
			}
			return true
		}
	}
	setEpoch := func(ep call.Epoch, ps ...*party) {
		t.Helper()
		for _, p := range ps {
			if err := p.eng.SetEpoch(ep); err != nil {
				t.Fatalf("%s: SetEpoch(%d): %v", p.name(), ep.Number, err)
			}
		}
	}
	rejected := func(ps ...*party) map[string]call.Rejections {
		out := map[string]call.Rejections{}
		for _, rx := range ps {
			for _, s := range rx.eng.Stats() {
				if s.Rejected.Total() > 0 {
					out[rx.name()+" from "+s.UserID+"/"+s.DeviceID] = s.Rejected
				}
			}
		}
		return out
	}

	setEpoch(calltest.NewEpoch(t, 1, alice.dev, bob.dev, carol.dev), parties...)
	waitFor(t, 20*time.Second, "media in epoch 1", flowing(1, parties...))

	ep2 := calltest.NewEpoch(t, 2, alice.dev, bob.dev, carol.dev)
	for i, p := range parties {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		setEpoch(ep2, p)
		if i == 0 && p.eng.SendEpoch() != 1 {
			t.Errorf("alice sends under epoch %d the moment she installs epoch 2, before anyone else holds it", p.eng.SendEpoch())
		}
	}
	waitFor(t, 20*time.Second, "media in epoch 2", flowing(2, parties...))
	if r := rejected(parties...); len(r) != 0 {
		t.Errorf("frames rejected across the switch to epoch 2: %v", r)
	}
	for _, p := range parties {
		if kt := p.eng.KeyTransitions(); kt.AllReady != 1 || kt.TimedOut != 0 {
			t.Errorf("%s: transitions %+v, want one ended by everyone holding the keys", p.name(), kt)
		}
	}

	// Carol stalls: she never installs epoch 3 nor says she holds it.
	setEpoch(calltest.NewEpoch(t, 3, alice.dev, bob.dev, carol.dev), alice, bob)
	waitFor(t, 20*time.Second, "alice and bob in epoch 3 without carol's word", flowing(3, alice, bob))
	for _, p := range []*party{alice, bob} {
		if kt := p.eng.KeyTransitions(); kt.TimedOut != 1 || p.eng.SendEpoch() != 3 {
			t.Errorf("%s: transitions %+v, sending under %d; want one timed out and epoch 3", p.name(), kt, p.eng.SendEpoch())
		}
	}
	if r := rejected(alice, bob); len(r) != 0 {
		t.Errorf("alice or bob rejected frames: %v", r)
	}

	// Carol is removed: nobody waits for her.
	setEpoch(calltest.NewEpoch(t, 4, alice.dev, bob.dev), alice, bob)
	waitFor(t, 20*time.Second, "alice and bob in epoch 4", flowing(4, alice, bob))
	for _, p := range []*party{alice, bob} {
		if kt := p.eng.KeyTransitions(); kt.AllReady != 2 || kt.TimedOut != 1 {
			t.Errorf("%s: transitions %+v, want the removal's ended by alice and bob holding the keys", p.name(), kt)
		}
	}
	if r := rejected(alice, bob); len(r) != 0 {
		t.Errorf("alice or bob rejected frames after carol's removal: %v", r)
	}

	// Carol comes back with a new engine (its signal counters start
	// again): her word that she holds epoch 5 still counts.
	carol.stop(t)
	carol = startPartyWith(t, ctx, carol.dev, vn, netw, true, mod)
	parties[2] = carol
	setEpoch(calltest.NewEpoch(t, 5, alice.dev, bob.dev, carol.dev), parties...)
	waitFor(t, 20*time.Second, "everyone in epoch 5", flowing(5, parties...))
	for _, p := range []*party{alice, bob} {
		if kt := p.eng.KeyTransitions(); kt.AllReady != 3 || kt.TimedOut != 1 {
			t.Errorf("%s: transitions %+v, want carol's return ended by everyone holding the keys", p.name(), kt)
		}
	}
}
