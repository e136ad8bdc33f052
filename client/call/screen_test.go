package call_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// TestScreenTrack: a shared screen is a third track beside the camera and
// the microphone. The receiver gets it as Screen, not mixed into the
// camera's frames; a member that shares nothing sends no screen frames;
// and a screen frame from the page that is not sealed under this
// device's key is refused before it leaves, as a camera frame is.
func TestScreenTrack(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	screen, err := call.NewSyntheticSource(call.Video, 300_000, 5)
	if err != nil {
		t.Fatal(err)
	}
	alice := startPartyWith(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true, func(c *call.Config) { c.Screen = screen })
	bob := startParty(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true)
	defer alice.stop(t)
	defer bob.stop(t)

	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatalf("%s: SetEpoch: %v", p.name(), err)
		}
	}
	waitFor(t, 20*time.Second, "bob to decrypt alice's camera and screen", func() bool {
		return bob.rec.Frames(alice.name(), call.Screen, 1) >= 10 && bob.rec.Frames(alice.name(), call.Video, 1) >= 10
	})
	// By now bob's camera frames have reached alice too; a screen track
	// of bob's would have as well, had the receiver mistaken a camera for
	// a screen.
	waitFor(t, 10*time.Second, "alice to decrypt bob's camera", func() bool { return alice.rec.Frames(bob.name(), call.Video, 1) >= 10 })
	if n := alice.rec.Frames(bob.name(), call.Screen, 0); n != 0 {
		t.Errorf("alice received %d screen frames from bob, who shares no screen", n)
	}
	if err := alice.eng.SendSealed(call.Screen, []byte{0x90, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b}, 200*time.Millisecond); err == nil {
		t.Error("SendSealed took a screen frame that is not sealed under alice's key")
	}
	if err := alice.eng.SendSealed(call.MediaKind(9), []byte{1, 2, 3}, time.Millisecond); !errors.Is(err, call.ErrInvalidConfig) {
		t.Errorf("SendSealed of an unknown track: %v, want ErrInvalidConfig", err)
	}
}
