package call_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// keyDims returns the picture size a VP8 key frame declares, and false for
// a delta frame.
func keyDims(frame []byte) (w, h int, key bool) {
	if len(frame) < 10 || frame[0]&1 != 0 {
		return 0, 0, false
	}
	return int(frame[6]) | int(frame[7]&0x3f)<<8, int(frame[8]) | int(frame[9]&0x3f)<<8, true
}

// TestSimulcastSyntheticSource: three layers per picture, a quarter of the
// bytes per step down, key frames in all three at once (each declaring
// its own picture size) every second and on request, sized together to
// the target; ReadFrame is the full layer.
func TestSimulcastSyntheticSource(t *testing.T) {
	const fps = 10
	s, err := call.NewSimulcastSyntheticSource(400_000, fps)
	if err != nil {
		t.Fatal(err)
	}
	var src call.Source = s
	if _, ok := src.(call.SimulcastSource); !ok {
		t.Fatal("not a SimulcastSource")
	}
	syn, err := call.NewAdaptiveSyntheticSource(400_000, fps)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := call.Source(syn).(call.SimulcastSource); ok {
		t.Error("a one-stream synthetic source claims to be simulcast")
	}
	if _, err := call.NewSimulcastSyntheticSource(400_000, 0); !errors.Is(err, call.ErrInvalidConfig) {
		t.Errorf("0 fps: %v, want ErrInvalidConfig", err)
	}

	dims := [call.NumLayers][2]int{{80, 60}, {160, 120}, {320, 240}}
	sizes := [call.NumLayers]int{312, 1250, 5000} // 400 kbit/s at 10 fps is 5000 bytes
	read := func(i int, wantKey bool) {
		t.Helper()
		layers, d, err := s.ReadLayers()
		if err != nil || d != 100*time.Millisecond {
			t.Fatalf("frame %d: %v, %v", i, d, err)
		}
		for l, f := range layers {
			if len(f) != sizes[l] {
				t.Errorf("frame %d layer %d: %d bytes, want %d", i, l, len(f), sizes[l])
			}
			w, h, key := keyDims(f)
			if key != wantKey {
				t.Errorf("frame %d layer %d: key %v, want %v", i, l, key, wantKey)
			}
			if key && [2]int{w, h} != dims[l] {
				t.Errorf("frame %d layer %d: key frame of %dx%d, want %v", i, l, w, h, dims[l])
			}
		}
	}
	for i := range 2 * fps {
		read(i, i%fps == 0)
	}
	read(20, true)
	s.RequestKeyframe()
	read(21, true)
	read(22, false)
	if got := s.LayerBitrates(); got != [call.NumLayers]int{24_960, 100_000, 400_000} {
		t.Errorf("bitrates %v", got)
	}

	// Together the layers fit the target: 21/16 of the full one.
	s.SetTargetBitrate(210_000)
	got := s.LayerBitrates()
	if got[call.LayerF] != 160_000 || got[call.LayerH] != 40_000 || got[call.LayerQ] != 10_000 {
		t.Errorf("at 210 kbit/s: %v", got)
	}
	f, _, err := s.ReadFrame()
	if err != nil || len(f) != 2000 {
		t.Errorf("ReadFrame: %d bytes, %v; want the full layer's 2000", len(f), err)
	}
	s.SetTargetBitrate(10_000_000)
	if got := s.LayerBitrates(); got[call.LayerF] != 400_000 {
		t.Errorf("above the maximum: %v", got)
	}
}

// offerOf runs an engine whose roster is above its mesh limit, with
// video as its camera (or, sealed, a camera sealed in layers elsewhere),
// and returns the offer it makes to the relay.
func offerOf(t *testing.T, video call.Source, sealed bool) string {
	t.Helper()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	offers := make(chan string, 1)
	alice := startPartyWith(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, false, func(c *call.Config) {
		c.Video = video
		c.SealedSimulcast = sealed
		c.MeshLimit = 1
		c.MediaRelay = func(ctx context.Context, offer, _ string) (string, string, error) {
			select {
			case offers <- offer:
			default:
			}
			return "", "", errors.New("no relay in this test")
		}
	})
	defer alice.stop(t)
	if err := alice.eng.SetEpoch(calltest.NewEpoch(t, 1, alice.dev, calltest.NewDevice(t, "bob", "phone"))); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-offers:
		return o
	case <-time.After(20 * time.Second):
		t.Fatal("no offer to the relay")
	}
	return ""
}

// TestSimulcastOffer: with a simulcast camera the relay link offers mid pv
// as three encodings, a=rid q, h and f and a=simulcast:send q;h;f, with
// the mid and RID header extensions the packets carry; a camera of one
// stream offers none of that, and no other mid is simulcast.
func TestSimulcastOffer(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	simulcast, err := call.NewSimulcastSyntheticSource(300_000, 15)
	if err != nil {
		t.Fatal(err)
	}
	single, err := call.NewAdaptiveSyntheticSource(300_000, 15)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		video  call.Source
		sealed bool
		rids   []string
	}{
		{"simulcast", simulcast, false, []string{"q send", "h send", "f send"}},
		{"one stream", single, false, nil},
		{"sealed elsewhere, in layers (the page)", nil, true, []string{"q send", "h send", "f send"}},
		{"sealed elsewhere, one stream", nil, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sd sdp.SessionDescription
			if err := sd.UnmarshalString(offerOf(t, tc.video, tc.sealed)); err != nil {
				t.Fatal(err)
			}
			mids := map[string]bool{}
			for _, md := range sd.MediaDescriptions {
				mid, _ := md.Attribute(sdp.AttrKeyMID)
				mids[mid] = true
				var rids []string
				exts := map[string]bool{}
				for _, a := range md.Attributes {
					switch a.Key {
					case "rid":
						rids = append(rids, a.Value)
					case "extmap":
						if f := strings.Fields(a.Value); len(f) == 2 {
							exts[f[1]] = true
						}
					}
				}
				sim, hasSim := md.Attribute("simulcast")
				if mid != "pv" {
					if len(rids) != 0 || hasSim {
						t.Errorf("mid %s: rids %v, simulcast %q", mid, rids, sim)
					}
					continue
				}
				if _, ok := md.Attribute("sendonly"); !ok {
					t.Error("pv is not sendonly")
				}
				if strings.Join(rids, ",") != strings.Join(tc.rids, ",") {
					t.Errorf("pv: a=rid %q, want %q", rids, tc.rids)
				}
				if tc.rids == nil {
					if hasSim {
						t.Errorf("pv: a=simulcast:%s for one stream", sim)
					}
					continue
				}
				if sim != "send q;h;f" {
					t.Errorf("pv: a=simulcast:%q, want \"send q;h;f\"", sim)
				}
				for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
					if !exts[uri] {
						t.Errorf("pv: no a=extmap for %s", uri)
					}
				}
			}
			for _, mid := range []string{"pa", "pv", "ps", "rv0", "ra0", "rs0"} {
				if !mids[mid] {
					t.Errorf("no m-line with mid %s", mid)
				}
			}
		})
	}
}

// layerSizes records the picture sizes of the key frames a sink is
// given, and the RTP timestamp steps between its frames.
type layerSizes struct {
	mu    sync.Mutex
	dims  map[[2]int]int
	steps map[uint32]int
	n     int
	last  uint32
}

func (l *layerSizes) WriteFrame(f call.Frame) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		l.steps[f.Timestamp-l.last]++
	}
	l.n++
	l.last = f.Timestamp
	if w, h, key := keyDims(f.Data); key {
		l.dims[[2]int{w, h}]++
	}
	return nil
}

func (l *layerSizes) Close() error { return nil }

func (l *layerSizes) snapshot() (n int, dims map[[2]int]int, steps map[uint32]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	dims, steps = map[[2]int]int{}, map[uint32]int{}
	for k, v := range l.dims {
		dims[k] = v
	}
	for k, v := range l.steps {
		steps[k] = v
	}
	return l.n, dims, steps
}

// halfFull is a simulcast camera whose full layer has no frame every
// other delta picture: a layer at a lower frame rate than the others.
type halfFull struct {
	*call.SimulcastSyntheticSource
	n int
}

func (s *halfFull) ReadLayers() ([call.NumLayers][]byte, time.Duration, error) {
	layers, d, err := s.SimulcastSyntheticSource.ReadLayers()
	if s.n++; s.n%2 == 0 && layers[call.LayerF][0]&1 != 0 {
		layers[call.LayerF] = nil
	}
	return layers, d, err
}

// TestSimulcastCameraOnTheMesh: a member whose camera is simulcast and
// who could use a relay, in a call the mesh carries, sends its peers the
// full layer only, as one stream, and encrypts nothing of the others.
// A picture without a full-layer frame sends nothing, yet moves the
// stream's timestamps on by its duration.
func TestSimulcastCameraOnTheMesh(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam, err := call.NewSimulcastSyntheticSource(200_000, 15)
	if err != nil {
		t.Fatal(err)
	}
	alice := startPartyWith(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, false, func(c *call.Config) {
		c.Video = &halfFull{SimulcastSyntheticSource: cam}
		c.MediaRelay = func(context.Context, string, string) (string, string, error) {
			t.Error("a call of two dialled the relay")
			return "", "", errors.New("no relay in this test")
		}
	})
	got := &layerSizes{dims: map[[2]int]int{}, steps: map[uint32]int{}}
	bob := startPartyWith(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, false, func(c *call.Config) {
		c.Sinks = func(from call.Member, kind call.MediaKind) (call.Sink, error) {
			if kind == call.Video {
				return got, nil
			}
			return call.DiscardSinks()(from, kind)
		}
	})
	defer alice.stop(t)
	defer bob.stop(t)
	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "bob to decrypt three key frames of alice's camera", func() bool {
		_, dims, _ := got.snapshot()
		n := 0
		for _, c := range dims {
			n += c
		}
		return n >= 3
	})
	n, dims, steps := got.snapshot()
	if len(dims) != 1 || dims[[2]int{320, 240}] == 0 {
		t.Errorf("bob's key frames of alice's camera, by picture size: %v; want the full layer's 320x240 only", dims)
	}
	// 15 frames a second at 90 kHz: 6000 a picture, 12000 over one
	// without a frame (give or take the tick pion rounds off).
	pictures := func(step uint32) uint32 { return (step + 1) / 6000 }
	skipped := 0
	for step, c := range steps {
		if p := pictures(step); p == 0 || step+1 < p*6000 || step > p*6000+1 {
			t.Errorf("timestamp steps %v: want multiples of 6000", steps)
		} else if p == 2 {
			skipped += c
		}
	}
	if skipped == 0 {
		t.Errorf("timestamp steps %v: none over a picture without a frame", steps)
	}
	s, _ := bob.statsOf(alice.name())
	if s.Rejected.Total() != 0 {
		t.Errorf("bob rejected alice's frames: %+v", s.Rejected)
	}
	if rs := alice.eng.Relay(); rs.Layers != [call.NumLayers]call.LayerStats{{RID: "q"}, {RID: "h"}, {RID: "f"}} {
		t.Errorf("alice sent layers without a relay: %+v", rs.Layers)
	}
	t.Logf("bob decrypted %d frames of alice's camera; key frames by size %v; timestamp steps %v", n, dims, steps)
}
