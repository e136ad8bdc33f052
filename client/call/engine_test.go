package call_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/sframe"
)

// capture keeps the last encrypted frame an engine received from a member,
// of a kind, under an epoch.
type capture struct {
	mu     sync.Mutex
	frames map[string][]byte
	tamper map[string]int // frames still to alter, by sender
}

func captureKey(from string, kind call.MediaKind, epoch uint64) string {
	return from + "|" + kind.String() + "|" + string(rune('0'+epoch))
}

func tap(eng *call.Engine) *capture {
	c := &capture{frames: make(map[string][]byte), tamper: make(map[string]int)}
	eng.TapReceived(func(user, device string, kind call.MediaKind, frame []byte) []byte {
		from := user + "/" + device
		kid, ok := kidOf(kind, frame)
		if !ok {
			return frame
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.frames[captureKey(from, kind, kid&0xff)] = append([]byte(nil), frame...)
		if c.tamper[from] > 0 {
			c.tamper[from]--
			frame = append([]byte(nil), frame...)
			frame[len(frame)/2] ^= 0x20
		}
		return frame
	})
	return c
}

// alter makes the next n frames from "user/device" arrive with a byte
// flipped.
func (c *capture) alter(from string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tamper[from] += n
}

func (c *capture) get(from string, kind call.MediaKind, epoch uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames[captureKey(from, kind, epoch)]
}

// TestThreePartyRekey runs alice, bob and carol over a virtual network,
// then rekeys to an epoch without carol.
func TestThreePartyRekey(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	alice := startParty(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true)
	bob := startParty(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true)
	carol := startParty(t, ctx, calltest.NewDevice(t, "carol", "tablet"), vn, netw, true)
	parties := []*party{alice, bob, carol}
	stopped := false
	defer func() {
		if !stopped {
			for _, p := range parties {
				p.stop(t)
			}
		}
	}()
	aliceTap, bobTap := tap(alice.eng), tap(bob.eng)
	start := time.Now()

	ep1 := calltest.NewEpoch(t, 1, alice.dev, bob.dev, carol.dev)
	for _, p := range parties {
		if err := p.eng.SetEpoch(ep1); err != nil {
			t.Fatalf("%s: SetEpoch(1): %v", p.name(), err)
		}
	}

	// Epoch 1: everyone decrypts everyone.
	waitFor(t, 20*time.Second, "every pair to exchange media in epoch 1", func() bool {
		for _, rx := range parties {
			for _, tx := range parties {
				if rx != tx && (rx.rec.Frames(tx.name(), call.Video, 1) < 10 || rx.rec.Frames(tx.name(), call.Audio, 1) < 10) {
					return false
				}
			}
		}
		return true
	})
	t.Logf("epoch 1 media flowing after %v", time.Since(start))
	for _, rx := range parties {
		for _, s := range rx.eng.Stats() {
			if s.FramesDecrypted == 0 || s.FramesSent == 0 || s.Epoch != 1 || s.RecvEpoch != 1 || s.State != "connected" {
				t.Errorf("%s: stats of %s/%s in epoch 1: %+v", rx.name(), s.UserID, s.DeviceID, s)
			}
		}
	}
	waitFor(t, 10*time.Second, "a round-trip time", func() bool {
		s, _ := alice.statsOf(bob.name())
		return s.RTT > 0
	})

	t.Run("rejected frames", func(t *testing.T) {
		frame := aliceTap.get(bob.name(), call.Video, 1)
		foreign := aliceTap.get(carol.name(), call.Audio, 1)
		if frame == nil || foreign == nil {
			t.Fatal("no frames captured")
		}
		before, _ := alice.statsOf(bob.name())

		// Live frames altered on the way in fail authentication.
		aliceTap.alter(bob.name(), 3)
		waitFor(t, 5*time.Second, "altered frames", func() bool {
			s, _ := alice.statsOf(bob.name())
			return s.Rejected.AuthFailed >= before.Rejected.AuthFailed+3
		})
		before, _ = alice.statsOf(bob.name())

		unknown := append([]byte(nil), frame[:sframe.CodecVP8.PrefixLen(frame)]...)
		unknown = sframe.Header{KID: 7<<8 | 1, CTR: 3}.Append(unknown) // sender 7 of a 3-member roster
		unknown = append(unknown, make([]byte, 40)...)

		for _, tc := range []struct {
			name  string
			kind  call.MediaKind
			frame []byte
		}{
			{"replayed", call.Video, frame},
			{"unknown KID", call.Video, unknown},
			{"another member's KID", call.Audio, foreign},
			{"garbage", call.Video, []byte{0x00}},
		} {
			if !alice.eng.InjectFrame("bob", "phone", tc.kind, tc.frame) {
				t.Fatalf("%s: bob is not alice's peer", tc.name)
			}
		}
		after, _ := alice.statsOf(bob.name())
		got := after.Rejected
		want := before.Rejected
		want.Replayed++
		want.UnknownKID += 2
		want.Malformed++
		if got != want {
			t.Errorf("rejections after injecting: got %+v, want %+v", got, want)
		}
		if n := alice.rec.Duplicates(); n != 0 {
			t.Errorf("%d replayed frames reached alice's sink", n)
		}
	})

	// Epoch 2 without carol.
	ep2 := calltest.NewEpoch(t, 2, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep2); err != nil {
			t.Fatalf("%s: SetEpoch(2): %v", p.name(), err)
		}
	}
	if err := carol.eng.SetEpoch(ep2); err == nil {
		t.Error("carol accepted an epoch without her")
	}
	waitFor(t, 20*time.Second, "alice and bob to exchange media in epoch 2", func() bool {
		for _, pair := range [][2]*party{{alice, bob}, {bob, alice}} {
			rx, tx := pair[0], pair[1]
			if rx.rec.Frames(tx.name(), call.Video, 2) < 10 || rx.rec.Frames(tx.name(), call.Audio, 2) < 10 {
				return false
			}
		}
		return true
	})
	t.Logf("epoch 2 media flowing after %v", time.Since(start))
	waitFor(t, 10*time.Second, "carol's connections to close", func() bool {
		for _, s := range carol.eng.Stats() {
			if s.State != "" {
				return false
			}
		}
		return true
	})
	for _, p := range []*party{alice, bob} {
		if _, ok := p.statsOf(carol.name()); ok {
			t.Errorf("%s still has carol as a peer", p.name())
		}
		s, _ := p.statsOf(map[*party]*party{alice: bob, bob: alice}[p].name())
		if s.Epoch != 2 || s.RecvEpoch != 2 {
			t.Errorf("%s: epoch %d, receiving in %d; want 2", p.name(), s.Epoch, s.RecvEpoch)
		}
	}

	// Carol decrypts nothing of epoch 2: her counters stand still, and an
	// epoch 2 frame fails for want of the key.
	carolBefore := carol.eng.Stats()
	time.Sleep(500 * time.Millisecond)
	carolAfter := carol.eng.Stats()
	for i := range carolBefore {
		if carolAfter[i].FramesDecrypted != carolBefore[i].FramesDecrypted {
			t.Errorf("carol still decrypts frames of %s/%s after the rekey", carolAfter[i].UserID, carolAfter[i].DeviceID)
		}
	}
	for _, from := range []string{alice.name(), bob.name()} {
		if n := carol.rec.EpochsFrom(from)[2]; n != 0 {
			t.Errorf("carol's sink got %d epoch 2 frames from %s", n, from)
		}
	}
	epoch2 := bobTap.get(alice.name(), call.Video, 2)
	if epoch2 == nil {
		t.Fatal("no epoch 2 frame captured")
	}
	before, _ := carol.statsOf(alice.name())
	carol.eng.InjectFrame("alice", "laptop", call.Video, epoch2)
	after, _ := carol.statsOf(alice.name())
	if after.Rejected.NoKey != before.Rejected.NoKey+1 || after.FramesDecrypted != before.FramesDecrypted {
		t.Errorf("epoch 2 frame at carol: rejections %+v -> %+v, decrypted %d -> %d",
			before.Rejected, after.Rejected, before.FramesDecrypted, after.FramesDecrypted)
	}

	// Epoch 3 adds dave: the others connect to him.
	dave := startParty(t, ctx, calltest.NewDevice(t, "dave", "desktop"), vn, netw, true)
	parties = append(parties, dave)
	ep3 := calltest.NewEpoch(t, 3, alice.dev, dave.dev, bob.dev)
	for _, p := range []*party{alice, bob, dave} {
		if err := p.eng.SetEpoch(ep3); err != nil {
			t.Fatalf("%s: SetEpoch(3): %v", p.name(), err)
		}
	}
	waitFor(t, 20*time.Second, "alice, bob and dave to exchange media in epoch 3", func() bool {
		for _, rx := range []*party{alice, bob, dave} {
			for _, tx := range []*party{alice, bob, dave} {
				if rx != tx && (rx.rec.Frames(tx.name(), call.Video, 3) < 10 || rx.rec.Frames(tx.name(), call.Audio, 3) < 10) {
					return false
				}
			}
		}
		return true
	})
	t.Logf("epoch 3 media flowing after %v", time.Since(start))
	if n := carol.rec.EpochsFrom(dave.name())[3]; n != 0 {
		t.Errorf("carol got %d frames from dave", n)
	}

	stopped = true
	t.Logf("stopping after %v", time.Since(start))
	for _, p := range parties {
		p.stop(t)
	}
	t.Logf("stopped after %v", time.Since(start))
	// Every decrypted frame, and nothing else, reached the sinks.
	for _, rx := range parties {
		if n := rx.rec.Duplicates(); n != 0 {
			t.Errorf("%s: %d duplicate frames delivered", rx.name(), n)
		}
		for _, s := range rx.eng.Stats() {
			if got := uint64(rx.rec.Total(s.UserID + "/" + s.DeviceID)); got != s.FramesDecrypted {
				t.Errorf("%s: sink got %d frames of %s/%s, %d decrypted", rx.name(), got, s.UserID, s.DeviceID, s.FramesDecrypted)
			}
		}
	}
}
