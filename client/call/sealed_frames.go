package call

import (
	"fmt"
	"sync"
	"time"

	"github.com/parleynet/parley/client/sframe"
)

// sealedCheck serialises the verification of frames that arrive already
// encrypted, one scratch buffer per track.
type sealedCheck struct {
	mu  sync.Mutex
	buf []byte
}

// SendSealed sends a frame that was SFrame-encrypted elsewhere under this
// device's own key (the browser page of `parley ui` encrypts in its
// Worker) to every connected peer, as the pump sends frames it encrypted
// itself. The engine first opens it with this device's receive key of the
// epoch its KID names and checks that the KID is this device's in that
// epoch (the current one, or the previous within the grace window): so no
// plaintext, no frame under a stale or foreign key and no replayed frame
// leaves the device, whatever the page does. duration is how long the
// frame plays (it sets the RTP timestamp step). It fails with
// ErrWrongSender, the keyring's error, or ErrClosed.
func (e *Engine) SendSealed(kind MediaKind, frame []byte, duration time.Duration) error {
	return e.SendSealedLayer(kind, LayerF, frame, duration)
}

// SendSealedLayer is SendSealed for one simulcast layer of the camera
// (LayerQ, LayerH or LayerF), as a browser's simulcast encoder makes
// them: with Config.SealedSimulcast and a media relay, each layer goes to
// the relay as its own encoding, and the mesh gets LayerF alone; without
// them, a frame of another layer than LayerF is dropped (nil error).
// Every other kind takes LayerF only.
func (e *Engine) SendSealedLayer(kind MediaKind, layer int, frame []byte, duration time.Duration) error {
	if _, ok := e.tracks[kind]; !ok || int(kind) >= len(e.sealed) {
		return fmt.Errorf("%w: no %v track", ErrInvalidConfig, kind)
	}
	if layer < 0 || layer >= NumLayers || (layer != LayerF && kind != Video) {
		return fmt.Errorf("%w: layer %d of a %v frame", ErrInvalidConfig, layer, kind)
	}
	if layer != LayerF && !e.simulcast() {
		return nil
	}
	if err := e.checkSealed(kind, frame); err != nil {
		return err
	}
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	e.emit(kind, layer, frame, duration)
	return nil
}

// SetSealedAudioLevel sets the RFC 6464 level (-dBov, 0 loudest, 127
// silence) the relay link writes on this device's audio packets when the
// audio comes sealed (SendSealed): the engine cannot read the level of a
// frame it may not decrypt, so whoever encoded it says it (the page's
// browser writes it on its RTP packets). A relay forwards the loudest
// members' audio by it.
func (e *Engine) SetSealedAudioLevel(dBov uint8) {
	e.audioLevel.Store(uint32(min(dBov, levelSilence)))
}

// checkSealed authenticates a locally sealed frame under this device's
// KID of the epoch the frame names.
func (e *Engine) checkSealed(kind MediaKind, frame []byte) error {
	v := e.view.Load()
	if v == nil {
		return fmt.Errorf("%w: no epoch yet", sframe.ErrNoKey)
	}
	codec := kind.codec()
	// Check the KID before decrypting, as for a peer's frames: a frame
	// under another member's KID must not move that member's replay
	// window here.
	if pre := codec.PrefixLen(frame); len(frame) > pre {
		if h, _, err := sframe.ParseHeader(frame[pre:]); err == nil {
			if err := e.expectSelfKID(v, h.KID); err != nil {
				return err
			}
		}
	}
	c := &e.sealed[kind]
	c.mu.Lock()
	defer c.mu.Unlock()
	plain, err := e.keyring.Decrypt(c.buf[:0], codec, frame)
	if err != nil {
		return err
	}
	c.buf = plain
	// Where the header really is, also for a frame too short for the
	// check above.
	h, _, err := sframe.ParseHeader(frame[codec.PrefixLen(plain):])
	if err != nil {
		return err
	}
	return e.expectSelfKID(v, h.KID)
}

// expectSelfKID checks that kid is this device's KID in the epoch it names.
func (e *Engine) expectSelfKID(v *rosterView, kid uint64) error {
	r := v.forKID(kid)
	if r == nil {
		return fmt.Errorf("%w: %w: KID %d of no known epoch", ErrWrongSender, sframe.ErrUnknownKID, kid)
	}
	if _, idx, ok := r.lookup(e.self); !ok || kidOf(idx, r.number) != kid {
		return fmt.Errorf("%w: KID %d is not this device's in epoch %d", ErrWrongSender, kid, r.number)
	}
	return nil
}
