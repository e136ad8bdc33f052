package call_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4/vnet"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

// blackhole drops every packet to or from the LAN's router while on.
func blackhole(lan *calltest.LAN) *atomic.Bool {
	var on atomic.Bool
	lan.Router.AddChunkFilter(func(vnet.Chunk) bool { return !on.Load() })
	return &on
}

// decrypting returns how many frames rx has decrypted from tx so far.
func decrypting(rx, tx *party) int { return rx.rec.Total(tx.name()) }

// waitFlowing waits until rx decrypts 10 more frames from tx and returns
// how long that took.
func waitFlowing(t *testing.T, rx, tx *party, what string) time.Duration {
	t.Helper()
	start, n := time.Now(), decrypting(rx, tx)
	waitFor(t, 30*time.Second, what, func() bool { return decrypting(rx, tx) >= n+10 })
	return time.Since(start)
}

// TestICERestartAfterPathLoss: alice's LAN drops every packet for 4 s.
// Both ends see the path go quiet; alice, who offers, restarts ICE on the
// same session (bob asks her to as well); when the LAN comes back the
// call carries on — same session, no new connection, media decrypting.
func TestICERestartAfterPathLoss(t *testing.T) {
	t.Cleanup(calltest.CheckGoroutines(t))
	in := calltest.NewInternet(t, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT}, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	hole := blackhole(in.LANs[0])
	alice, bob := natCall(t, in, srv, calltest.NewNetwork(), nil)
	before, _ := alice.statsOf(bob.name())

	hole.Store(true)
	lost := time.Now()
	waitFor(t, 10*time.Second, "alice to notice", func() bool {
		s, _ := alice.statsOf(bob.name())
		return s.Restarts > 0
	})
	t.Logf("alice restarted ICE %v after the LAN went dark", time.Since(lost).Round(time.Millisecond))
	time.Sleep(4*time.Second - time.Since(lost))
	hole.Store(false)
	back := time.Now()
	d1 := waitFlowing(t, bob, alice, "bob to decrypt alice again")
	d2 := waitFlowing(t, alice, bob, "alice to decrypt bob again")
	t.Logf("after the LAN came back: bob decrypts alice within %v, alice bob within %v (of %v since)", d1.Round(time.Millisecond),
		d2.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	after, _ := alice.statsOf(bob.name())
	if after.Session != before.Session {
		t.Errorf("session %s replaced by %s: the call reconnected instead of restarting ICE", before.Session, after.Session)
	}
	if after.Restarts == 0 || after.State != "connected" {
		t.Errorf("after: %+v", after)
	}
}

// TestICERestartRequested: bob's device learns its network changed
// (Engine.RestartICE, as the address watcher calls it); bob answers, so
// he asks alice, who restarts ICE; the session stays.
func TestICERestartRequested(t *testing.T) {
	t.Cleanup(calltest.CheckGoroutines(t))
	in := calltest.NewInternet(t, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT}, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	alice, bob := natCall(t, in, srv, calltest.NewNetwork(), nil)
	before, _ := alice.statsOf(bob.name())
	bob.eng.RestartICE()
	waitFor(t, 10*time.Second, "alice to restart at bob's request", func() bool {
		s, _ := alice.statsOf(bob.name())
		b, _ := bob.statsOf(alice.name())
		return s.Restarts > 0 && b.Restarts > 0
	})
	waitFlowing(t, bob, alice, "media after the restart")
	after, _ := alice.statsOf(bob.name())
	if after.Session != before.Session {
		t.Errorf("session replaced")
	}
	if rej := bob.eng.SignalStats().Rejected.Total() + alice.eng.SignalStats().Rejected.Total(); rej != 0 {
		t.Errorf("%d signals refused: alice %+v, bob %+v", rej, alice.eng.SignalStats().Rejected, bob.eng.SignalStats().Rejected)
	}
}

// keyCounter counts decrypted VP8 key frames (frame tag bit 0 clear).
type keyCounter struct{ keys, frames atomic.Int64 }

func (k *keyCounter) sinks() call.SinkFactory {
	return func(call.Member, call.MediaKind) (call.Sink, error) { return k, nil }
}

func (k *keyCounter) WriteFrame(f call.Frame) error {
	if f.Kind == call.Video && len(f.Data) > 0 {
		k.frames.Add(1)
		if f.Data[0]&1 == 0 {
			k.keys.Add(1)
		}
	}
	return nil
}

func (k *keyCounter) Close() error { return nil }
