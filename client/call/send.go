package call

import (
	"context"
	"time"
)

// maxLag is how far a track may fall behind real time (a stalled machine)
// before it skips ahead instead of sending a burst.
const maxLag = time.Second

// adaptEvery is how often the video source's target bitrate follows the
// congestion controllers.
const adaptEvery = 200 * time.Millisecond

// pump reads one source in real time, SFrame-encrypts each frame with the
// device's sender key and writes it to the track, which every connected
// peer's connection shares: a frame is encrypted once and packetized per
// connection. The clear prefix keeps the VP8 or Opus header readable, so
// pion's packetizer (and a browser's) works on the ciphertext. Frames are
// neither encrypted nor sent while no peer is connected.
//
// A simulcast camera's layers are each encrypted on their own (each
// under its own counter, so that a subscriber the relay moves between
// layers never sees a counter twice) and written to their tracks; the
// lower two only while the relay link is up, since only the relay takes
// them.
//
// Between frames it passes on what the peers asked for: a key frame
// (KeyframeRequester) and, every adaptEvery, the congestion controllers'
// target (BitrateController), for the sources that can.
func (e *Engine) pump(ctx context.Context, kind MediaKind, src Source) {
	codec := kind.codec()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var buf []byte
	next := time.Now()
	kfr, _ := src.(KeyframeRequester)
	bc, _ := src.(BitrateController)
	sc, _ := src.(SimulcastSource)
	if kind != Video || !e.simulcast() {
		sc = nil
	}
	var adapted time.Time
	for {
		if kind.IsVideo() && kfr != nil && e.kf.pending.Swap(false) {
			kfr.RequestKeyframe()
		}
		if kind == Video && bc != nil && time.Since(adapted) >= adaptEvery {
			adapted = time.Now()
			if target := e.TargetBitrate(); target > 0 {
				bc.SetTargetBitrate(max(target-audioReserve, MinBitrate))
			}
		}
		var layers [NumLayers][]byte
		var d time.Duration
		var err error
		if sc != nil {
			layers, d, err = sc.ReadLayers()
		} else {
			layers[LayerF], d, err = src.ReadFrame()
		}
		if err != nil {
			e.log.Errorf("%v source stopped: %v", kind, err)
			return
		}
		if kind == Audio {
			lvl := opusLevel(layers[LayerF])
			if al, ok := src.(AudioLeveler); ok {
				lvl = min(al.AudioLevel(), levelSilence)
			}
			e.audioLevel.Store(uint32(lvl))
		}
		mesh, relay := len(e.connectedPeers()) > 0, e.relayUp() != nil
		if mesh || relay {
			e.sendMu.Lock()
			for i, frame := range layers {
				if i != LayerF && !relay {
					continue
				}
				if frame == nil {
					if sc != nil {
						e.skipLayer(i, d)
					}
					continue
				}
				enc, err := e.sender.Encrypt(buf[:0], codec, frame)
				if err != nil {
					continue
				}
				buf = enc
				e.emit(kind, i, enc, d)
			}
			e.sendMu.Unlock()
		}
		next = next.Add(d)
		wait := time.Until(next)
		if wait < -maxLag {
			next, wait = time.Now(), 0
		}
		if wait <= 0 {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// connectedPeers returns the peers whose connection is up.
func (e *Engine) connectedPeers() []*peer {
	all := e.peerList.Load()
	if all == nil {
		return nil
	}
	var list []*peer
	for _, p := range *all {
		if c := p.cur.Load(); c != nil && c.connected.Load() {
			list = append(list, p)
		}
	}
	return list
}
