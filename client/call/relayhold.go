package call

import (
	"bytes"
	"encoding/binary"

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

// settleHeldAll settles every member's held frames: every tick, for
// those that went unsigned past the verifier's window.
func (e *Engine) settleHeldAll() {
	list := e.peerList.Load()
	if list == nil {
		return
	}
	for _, p := range *list {
		e.settleHeld(p)
	}
}

// settleHeld plays p's held frames whose signature came, in the order
// they arrived, and drops those that went unsigned past the verifier's
// window or whose KID was cut. It runs when a batch of p's arrives (only
// for p: a member's batches say nothing of another's frames) and every
// tick.
func (e *Engine) settleHeld(p *peer) {
	p.heldMu.Lock()
	if len(p.held) == 0 {
		p.heldMu.Unlock()
		return
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

// batchSender returns the member whose batch a signature message claims
// to be (its KID, bytes 9 to 17 of the batch: framesig's format), or nil.
// The claim only chooses whose held frames to look at; Settled decides.
func (e *Engine) batchSender(msg []byte) *peer {
	if len(msg) < framesig.BatchHeaderSize {
		return nil
	}
	return e.senderOf(binary.BigEndian.Uint64(msg[9:17]))
}
