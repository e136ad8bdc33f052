package call_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// TestHeadlessRecording: bob records alice's clips to files; every frame
// in them is byte for byte a frame of the clips, after SFrame, RTP,
// DTLS-SRTP and back.
func TestHeadlessRecording(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()

	alice := startParty(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true)
	bob := startPartyWith(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, false, func(c *call.Config) { c.Sinks = call.FileSinks(dir) })
	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	// Past the clip's second key frame, so the IVF file starts with one
	// whatever frame the call joined at.
	waitFor(t, 10*time.Second, "media", func() bool {
		s, _ := bob.statsOf(alice.name())
		return s.FramesDecrypted > 130
	})
	alice.stop(t)
	bob.stop(t)

	clipVideo := clipFrames(t, call.NewIVFSource, "testdata/clip.ivf", 120)
	clipAudio := clipFrames(t, call.NewOggSource, "testdata/clip.ogg", 250)

	f, err := os.Open(filepath.Join(dir, "alice_laptop_1.ivf"))
	if err != nil {
		f, err = os.Open(filepath.Join(dir, "alice_laptop_2.ivf"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if h.Width != 320 || h.Height != 240 {
		t.Errorf("recorded %dx%d, want 320x240", h.Width, h.Height)
	}
	n := 0
	for ; ; n++ {
		frame, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		if !clipVideo.has(frame) {
			t.Fatalf("recorded video frame %d is not a frame of the clip", n)
		}
	}
	if n < 10 {
		t.Errorf("recorded %d video frames", n)
	}

	audioFile := filepath.Join(dir, "alice_laptop_1.ogg")
	if _, err := os.Stat(audioFile); err != nil {
		audioFile = filepath.Join(dir, "alice_laptop_2.ogg")
	}
	g, err := os.Open(audioFile)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	or, _, err := oggreader.NewWith(g)
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for {
		page, _, err := or.ParseNextPage()
		if err != nil {
			break
		}
		if len(page) == 0 || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		if !clipAudio.has(page) {
			t.Fatalf("recorded audio packet %d is not a packet of the clip", n)
		}
		n++
	}
	if n < 10 {
		t.Errorf("recorded %d audio packets", n)
	}
}

type frameSet map[string]bool

func (s frameSet) has(b []byte) bool { return s[string(b)] }

func clipFrames[S call.Source](t *testing.T, open func(string) (S, error), path string, n int) frameSet {
	t.Helper()
	src, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := readFrames(t, src, n)
	set := make(frameSet)
	for _, f := range frames {
		set[string(f)] = true
	}
	if c, ok := any(src).(interface{ Close() error }); ok {
		_ = c.Close()
	}
	return set
}
