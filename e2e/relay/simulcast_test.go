package relay

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/internal/ids"
)

// keyLayers notes, for every key frame of one member's camera a sink is
// given, which simulcast layer it is, by the picture size it declares
// (call.SimulcastSyntheticSource halves it per layer down from 320x240).
type keyLayers struct {
	mu      sync.Mutex
	seq     []string
	frames  int
	last    time.Time
	maxGap  time.Duration
	gapFrom int // frames before the gaps count: the call's start
}

// sinks wraps next so that from's camera frames are noted on the way.
func (k *keyLayers) sinks(from string, next call.SinkFactory) call.SinkFactory {
	return func(m call.Member, kind call.MediaKind) (call.Sink, error) {
		s, err := next(m, kind)
		if err != nil || kind != call.Video || m.UserID != from {
			return s, err
		}
		return &keyTee{Sink: s, k: k}, nil
	}
}

type keyTee struct {
	call.Sink
	k *keyLayers
}

func (t *keyTee) WriteFrame(f call.Frame) error {
	t.k.note(f.Data)
	return t.Sink.WriteFrame(f)
}

func (k *keyLayers) note(frame []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if k.frames > k.gapFrom && now.Sub(k.last) > k.maxGap {
		k.maxGap = now.Sub(k.last)
	}
	k.frames++
	k.last = now
	if len(frame) < 10 || frame[0]&1 != 0 {
		return
	}
	switch int(frame[6]) | int(frame[7]&0x3f)<<8 {
	case 80:
		k.seq = append(k.seq, "q")
	case 160:
		k.seq = append(k.seq, "h")
	case 320:
		k.seq = append(k.seq, "f")
	default:
		k.seq = append(k.seq, "?")
	}
}

// mark returns how many key frames were noted, and from now on counts
// the gaps between frames.
func (k *keyLayers) mark() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gapFrom == 0 {
		k.gapFrom = k.frames
	}
	return len(k.seq)
}

// since returns the layers of the key frames noted after the first n.
func (k *keyLayers) since(n int) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.seq[n:], "")
}

func (k *keyLayers) gap() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.maxGap
}

// slotLayer returns the layer the relay's last slots message says a
// subscriber gets of member's camera, "" if none.
func slotLayer(slots, member string) string {
	var msg struct {
		Slots map[string]struct {
			Member string `json:"member"`
			Layer  string `json:"layer"`
		} `json:"slots"`
	}
	if json.Unmarshal([]byte(slots), &msg) != nil {
		return ""
	}
	for mid, s := range msg.Slots {
		if strings.HasPrefix(mid, "rv") && s.Member == member {
			return s.Layer
		}
	}
	return ""
}

// TestSimulcastLayerSwitch: alice publishes her camera as three simulcast
// layers, every frame of every layer sealed under its own SFrame counter
// and signed; bob and carol subscribe. When the relay's estimate of what
// it may send bob falls below what alice's half layer takes, bob's slot
// moves to her quarter layer at one of its key frames, and back to the
// full one when the estimate rises; carol stays on the full layer. bob
// decrypts alice's camera throughout, refuses none of her frames (no
// replay, no failed tag, nothing unsigned: the signature batches cover
// the counters of all three layers), and alice really sends all three.
func TestSimulcastLayerSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay and three engines")
	}
	const plenty = 5_000_000
	var bobEstimate atomic.Int64
	bobEstimate.Store(plenty)
	keys := &keyLayers{}
	ms, _ := relayCall(t, setup{
		estimate: func(m ids.DeviceRef) int {
			if m.User == "bob" {
				return int(bobEstimate.Load())
			}
			return plenty
		},
		// 200 kbit/s on the full layer, 50 on the half one, 12.5 on the
		// quarter one.
		video: func(name string) (call.Source, error) {
			if name != "alice" {
				return nil, nil
			}
			return call.NewSimulcastSyntheticSource(200_000, 15)
		},
		sinks: func(name string, rec call.SinkFactory) call.SinkFactory {
			if name != "bob" {
				return rec
			}
			return keys.sinks("alice", rec)
		},
	}, "alice", "bob", "carol")
	alice, bob, carol := ms[0], ms[1], ms[2]
	layerAt := func(m *member) string { return slotLayer(m.eng.Relay().Slots, "alice/dev") }
	camera := func() int { return bob.rec.Frames("alice/dev", call.Video, 1) }

	waitUntil(t, 60*time.Second, "bob and carol to get alice's full layer", func() bool {
		return layerAt(bob) == "f" && layerAt(carol) == "f" && camera() > 30
	})
	keys.mark()
	before, start := alice.eng.Relay(), time.Now()
	time.Sleep(2 * time.Second)
	after, took := alice.eng.Relay(), time.Since(start)
	var rates [call.NumLayers]int
	for i := range rates {
		b, a := before.Layers[i], after.Layers[i]
		rates[i] = int(float64(a.BytesSent-b.BytesSent) * 8 / took.Seconds())
		t.Logf("layer %s: %d frames, %d kbit/s of sealed frames (%d frames, %d bytes in all)",
			a.RID, a.FramesSent-b.FramesSent, rates[i]/1000, a.FramesSent, a.BytesSent)
	}
	if !(rates[call.LayerQ] < rates[call.LayerH] && rates[call.LayerH] < rates[call.LayerF]) || rates[call.LayerQ] == 0 {
		t.Errorf("layer rates q %d, h %d, f %d bit/s: want all three sent, q < h < f", rates[0], rates[1], rates[2])
	}

	// The half layer takes about 55 kbit/s with its headers: bob's share
	// of 60 kbit/s over his two video slots fits only the quarter layer.
	for _, step := range []struct {
		estimate int
		from, to string
	}{{60_000, "f", "q"}, {plenty, "q", "f"}} {
		k0 := keys.mark()
		n0 := camera()
		bobEstimate.Store(int64(step.estimate))
		waitUntil(t, 20*time.Second, "bob's slot of alice to move to layer "+step.to, func() bool { return layerAt(bob) == step.to })
		waitUntil(t, 20*time.Second, "bob to decrypt key frames of alice's layer "+step.to, func() bool {
			return strings.Count(keys.since(k0), step.to) >= 2 && camera() > n0+30
		})
		// The slot changed layers once, at a key frame of the new one: no
		// frame of the old layer after it.
		seq := keys.since(k0)
		if cut := strings.TrimLeft(seq, step.from); strings.Trim(cut, step.to) != "" {
			t.Errorf("bob's key frames of alice while moving from %s to %s: %s", step.from, step.to, seq)
		}
		if l := layerAt(carol); l != "f" {
			t.Errorf("carol's slot of alice is on layer %q while bob's moves to %s", l, step.to)
		}
		t.Logf("bob to layer %s: key frames %s, %d camera frames of alice", step.to, seq, camera()-n0)
	}

	for _, sub := range []*member{bob, carol} {
		s := sub.stats(alice)
		if s.Rejected != (call.Rejections{}) || s.FramesDecrypted == 0 {
			t.Errorf("%s from alice: decrypted %d, rejected %+v", sub.dev.Member, s.FramesDecrypted, s.Rejected)
		}
		rs := sub.eng.Relay()
		if sg := rs.Signatures; sg.Verified == 0 || sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 {
			t.Errorf("%s's frame signatures: %+v", sub.dev.Member, sg)
		}
		if rs.Unattributed.Total() != 0 {
			t.Errorf("%s's relay: unattributed %+v", sub.dev.Member, rs.Unattributed)
		}
	}
	if d := bob.rec.Duplicates(); d != 0 {
		t.Errorf("bob's sinks got %d frames twice", d)
	}
	// Every picture went out in all three layers (a frame or two apart
	// at the moment the link came up).
	ls := alice.eng.Relay().Layers
	for _, l := range ls {
		if d := int64(l.FramesSent) - int64(ls[call.LayerF].FramesSent); d < -2 || d > 2 {
			t.Errorf("alice's layers: %+v, want as many frames in each", ls)
			break
		}
	}
	t.Logf("alice's layers %+v; bob's longest wait between two of alice's camera frames %v; bob's signatures %+v",
		ls, keys.gap(), bob.eng.Relay().Signatures)
}
