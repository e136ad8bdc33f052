package call

import (
	"bytes"

	"github.com/parleynet/parley/client/framesig"
)

// maxHeld bounds the relayed frames one member's media waits with for
// their signatures: two seconds of audio and video.
const maxHeld = 200

// heldFrame is a relayed frame that authenticated under its sender's key
// but whose sender's KID is held (framesig): it plays only once its
// signature comes.
type heldFrame struct {
	sigs *framesig.Verifier
	out  *trackSink
	f    Frame // Data and Sealed are the held frame's own copies
}

// hold keeps a copy of f until its signature settles it; the oldest goes
// unplayed when maxHeld wait.
func (p *peer) hold(sigs *framesig.Verifier, out *trackSink, f Frame) {
	f.Data, f.Sealed = bytes.Clone(f.Data), bytes.Clone(f.Sealed)
	p.heldMu.Lock()
	defer p.heldMu.Unlock()
	if len(p.held) >= maxHeld {
		p.stats.reject(unsignedErr(p.held[0].sigs, p.held[0].f.Epoch, p.held[0].f.KID))
		p.held = p.held[1:]
	}
	p.held = append(p.held, heldFrame{sigs: sigs, out: out, f: f})
}

// settleHeld plays every held frame whose signature came, in the order
// they arrived, and drops those that went unsigned past the verifier's
// window or whose KID was cut. It runs when a signature message arrives
// and every tick.
func (e *Engine) settleHeld() {
	list := e.peerList.Load()
	if list == nil {
		return
	}
	for _, p := range *list {
		p.heldMu.Lock()
		if len(p.held) == 0 {
			p.heldMu.Unlock()
			continue
		}
		kept := p.held[:0]
		var play []heldFrame
		for _, h := range p.held {
			switch h.sigs.Settled(h.f.Epoch, h.f.KID, h.f.Counter, h.f.Sealed) {
			case framesig.Verified:
				play = append(play, h)
			case framesig.Hold:
				kept = append(kept, h)
			default:
				p.stats.reject(unsignedErr(h.sigs, h.f.Epoch, h.f.KID))
			}
		}
		clear(p.held[len(kept):])
		p.held = kept
		p.heldMu.Unlock()
		for _, h := range play {
			h.out.mu.Lock()
			e.deliver(p, h.out, h.f)
			h.out.mu.Unlock()
		}
	}
}
