package call

import (
	"crypto/rand"
	"time"
)

// The picture size a synthetic camera writes into its key frames (the
// full layer's; SyntheticSource's): each simulcast layer halves the one
// above it, as browsers scale their simulcast encodings.
const (
	syntheticWidth  = 320
	syntheticHeight = 240
)

// SimulcastSyntheticSource is a synthetic camera encoded three times, as
// a browser's simulcast encoder does (SimulcastSource): the full layer at
// the source's rate, the half layer at a quarter of its bytes and the
// quarter layer at a sixteenth, each frame of the three at once and every
// key frame in all three (every second and on request), so that the relay
// can move a subscriber to any layer at the next key frame. It follows
// SetTargetBitrate as NewAdaptiveSyntheticSource does, sizing the full
// layer so that the three together (21/16 of it) fit the target. Without
// a relay, ReadFrame gives the full layer alone. It is not safe for
// concurrent use.
type SimulcastSyntheticSource struct {
	full *SyntheticSource // sizes, paces and keys the full layer
	bufs [NumLayers][]byte
}

// NewSimulcastSyntheticSource returns a simulcast camera of fps frames a
// second whose full layer carries at most maxBitrate bit/s.
func NewSimulcastSyntheticSource(maxBitrate, fps int) (*SimulcastSyntheticSource, error) {
	full, err := NewAdaptiveSyntheticSource(maxBitrate, fps)
	if err != nil {
		return nil, err
	}
	s := &SimulcastSyntheticSource{full: full}
	for i := range LayerF {
		s.bufs[i] = make([]byte, layerSize(full.size, i))
		_, _ = rand.Read(s.bufs[i])
	}
	return s, nil
}

// layerSize is the size of a frame of layer whose full layer's frame is
// full bytes: a quarter per step down.
func layerSize(full, layer int) int {
	return max(full>>(2*(LayerF-layer)), vp8KeyMinSize)
}

// SetTargetBitrate implements BitrateController: the three layers
// together follow bitsPerSecond.
func (s *SimulcastSyntheticSource) SetTargetBitrate(bitsPerSecond int) {
	s.full.SetTargetBitrate(bitsPerSecond / 21 * 16)
}

// LayerBitrates returns the bitrate each layer produces now, q, h, f.
func (s *SimulcastSyntheticSource) LayerBitrates() [NumLayers]int {
	var out [NumLayers]int
	for i := range out {
		out[i] = layerSize(s.full.size, i) * 8 * s.full.fps
	}
	return out
}

// RequestKeyframe implements KeyframeRequester: the next frame of every
// layer is a key frame.
func (s *SimulcastSyntheticSource) RequestKeyframe() { s.full.RequestKeyframe() }

// ReadFrame returns the next frame of the full layer; it never fails.
func (s *SimulcastSyntheticSource) ReadFrame() ([]byte, time.Duration, error) {
	layers, d, err := s.ReadLayers()
	return layers[LayerF], d, err
}

// ReadLayers implements SimulcastSource: the next frame of each layer,
// all key frames or all delta frames. It never fails.
func (s *SimulcastSyntheticSource) ReadLayers() ([NumLayers][]byte, time.Duration, error) {
	var out [NumLayers][]byte
	f, d, err := s.full.ReadFrame()
	if err != nil {
		return out, d, err
	}
	key := f[0] == vp8KeyTag
	out[LayerF] = f
	for i := range LayerF {
		n := layerSize(len(f), i)
		if n > len(s.bufs[i]) {
			s.bufs[i] = make([]byte, n)
			_, _ = rand.Read(s.bufs[i])
		}
		b := s.bufs[i][:n]
		if key {
			shift := LayerF - i
			w, h := syntheticWidth>>shift, syntheticHeight>>shift
			copy(b, []byte{vp8KeyTag, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)})
		} else {
			copy(b, []byte{vp8DeltaTag, 0x02, 0x00})
		}
		out[i] = b
	}
	return out, d, nil
}
