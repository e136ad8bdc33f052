package call_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/sframe"
)

// TestSendSealed: alice's engine has no sources; her frames are sealed
// outside it (as the browser page does) with her own sender key, passed to
// SendSealed, and bob decrypts them. Plaintext,
// frames under bob's key and replays are refused before they leave.
func TestSendSealed(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	alice := startParty(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, false)
	bob := startParty(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true)
	defer bob.stop(t)
	defer alice.stop(t)

	if err := alice.eng.SendSealed(call.Video, []byte{1, 2, 3}, time.Millisecond); !errors.Is(err, sframe.ErrNoKey) {
		t.Fatalf("SendSealed before any epoch: %v, want ErrNoKey", err)
	}
	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	aliceIdx, bobIdx := uint32(0), uint32(1)
	if ep.Members[0].UserID != "alice" {
		aliceIdx, bobIdx = 1, 0
	}
	page, err := sframe.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	defer page.EraseAll()
	if err := page.SetEpoch(1, ep.Key, aliceIdx); err != nil {
		t.Fatal(err)
	}
	forger, err := sframe.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	defer forger.EraseAll()
	if err := forger.SetEpoch(1, ep.Key, bobIdx); err != nil {
		t.Fatal(err)
	}

	// A VP8 key frame (P bit clear) and an Opus packet, both long enough
	// to have ciphertext after the clear prefix.
	video := append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}, bytes.Repeat([]byte{0xab}, 300)...)
	audio := append([]byte{0xfc}, bytes.Repeat([]byte{0x5a}, 80)...)
	var lastVideo []byte
	sendOne := func() {
		v, err := page.Encrypt(nil, sframe.CodecVP8, video)
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.eng.SendSealed(call.Video, v, 33*time.Millisecond); err != nil {
			t.Fatalf("SendSealed video: %v", err)
		}
		lastVideo = v
		a, err := page.Encrypt(nil, sframe.CodecOpus, audio)
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.eng.SendSealed(call.Audio, a, 20*time.Millisecond); err != nil {
			t.Fatalf("SendSealed audio: %v", err)
		}
	}
	waitFor(t, 20*time.Second, "bob to decrypt alice's sealed frames", func() bool {
		sendOne()
		time.Sleep(20 * time.Millisecond)
		return bob.rec.Frames(alice.name(), call.Video, 1) >= 5 && bob.rec.Frames(alice.name(), call.Audio, 1) >= 5
	})

	if err := alice.eng.SendSealed(call.Video, video, time.Millisecond); err == nil {
		t.Error("a plaintext frame was sent")
	}
	if err := alice.eng.SendSealed(call.Video, lastVideo, time.Millisecond); !errors.Is(err, sframe.ErrReplay) {
		t.Errorf("a replayed frame: %v, want ErrReplay", err)
	}
	f, err := forger.Encrypt(nil, sframe.CodecVP8, video)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.eng.SendSealed(call.Video, f, time.Millisecond); !errors.Is(err, call.ErrWrongSender) {
		t.Errorf("a frame under bob's key: %v, want ErrWrongSender", err)
	}
	if s, ok := alice.statsOf(bob.name()); !ok || s.FramesSent == 0 {
		t.Errorf("alice's stats of bob: %+v", s)
	}

	// Layers: only the camera has any, and without a relay to send them
	// to (Config.SealedSimulcast, MediaRelay) the lower ones are dropped
	// unsent, the full one sent as SendSealed sends it.
	for _, tc := range []struct {
		kind  call.MediaKind
		layer int
	}{{call.Audio, call.LayerQ}, {call.Screen, call.LayerH}, {call.Video, -1}, {call.Video, call.NumLayers}} {
		if err := alice.eng.SendSealedLayer(tc.kind, tc.layer, lastVideo, time.Millisecond); !errors.Is(err, call.ErrInvalidConfig) {
			t.Errorf("a %v frame as layer %d: %v, want ErrInvalidConfig", tc.kind, tc.layer, err)
		}
	}
	sent := func() uint64 { s, _ := alice.statsOf(bob.name()); return s.FramesSent }
	before := sent()
	q, err := page.Encrypt(nil, sframe.CodecVP8, video)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.eng.SendSealedLayer(call.Video, call.LayerQ, q, 33*time.Millisecond); err != nil || sent() != before {
		t.Errorf("a quarter layer on the mesh: %v, frames sent %d → %d; want it dropped unsent", err, before, sent())
	}
	if err := alice.eng.SendSealedLayer(call.Video, call.LayerF, q, 33*time.Millisecond); err != nil || sent() != before+1 {
		t.Errorf("the same frame as the full layer: %v, frames sent %d → %d; want it sent", err, before, sent())
	}
}
