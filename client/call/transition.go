package call

import (
	"sync/atomic"
	"time"

	"github.com/parleynet/parley/client/sframe"
)

// The key transition. SetEpoch installs a new epoch's receive keys at once
// but only stages this device's send key: frames stay under the previous
// epoch's key until every other member of the new roster has said it
// holds the new keys (a keys signal naming the epoch), or until
// KeyTransition has passed, whichever comes first. Every member sends its
// keys signal to every peer as soon as it installs an epoch. Receivers keep
// the previous epoch's keys for Grace, longer than the transition, so
// frames sent under either key during it decrypt everywhere.
//
// A removed member holds the previous key; the transition delays its
// exclusion by at most KeyTransition, and in the mesh not at all: its
// connection is closed as soon as the roster without it is installed. A
// member that never says it holds the keys delays the switch by at most
// KeyTransition; one that says so falsely only fails to decrypt.
//
// Keys signals belong to no connection: each engine draws one random
// session ID for them (keysSession), so that the replay guard, which
// remembers seqs per sender and session, takes those of a member that
// left and came back with a new engine (its seqs start again at 1).

// announceKeys tells every peer of the applied roster that this device
// holds the keys of its epoch, and starts the transition clock.
func (e *Engine) announceKeys() {
	e.stagedSince = time.Now()
	for _, p := range e.peers {
		e.send(p, Signal{Kind: KindKeys, Session: e.keysSession})
	}
	e.maybeSwitch()
}

// onKeys records that p holds the keys of the epoch its signal names.
func (e *Engine) onKeys(p *peer, s *Signal) {
	if s.Epoch > p.keysEpoch {
		p.keysEpoch = s.Epoch
	}
	e.maybeSwitch()
}

// maybeSwitch moves this device's frames to the staged epoch once every
// peer holds its keys; boundTransition moves them when the bound runs out.
func (e *Engine) maybeSwitch() {
	epoch, ok := e.sender.Staged()
	// Only an epoch whose roster the peers were reconciled to: the peers
	// asked are then that epoch's.
	if !ok || e.applied == nil || e.applied.cur.number != epoch {
		return
	}
	for _, p := range e.peers {
		if p.keysEpoch < epoch {
			return
		}
	}
	if !e.sender.Switch(epoch) {
		return
	}
	e.transitions.allReady.Add(1)
	e.log.Infof("epoch %d: every member holds its keys; sending under them after %v", epoch, time.Since(e.stagedSince).Round(time.Millisecond))
	if e.cfg.OnSendEpoch != nil {
		e.cfg.OnSendEpoch(epoch)
	}
}

// boundTransition makes sure frames move to epoch's key KeyTransition
// from now whatever the loop is doing: the loop may be waiting on pion
// (its ICE agent blocks on a TURN server that went away), and the bound
// is what keeps a removed member's exclusion from being delayed.
func (e *Engine) boundTransition(epoch uint64) {
	if staged, ok := e.sender.Staged(); !ok || staged != epoch {
		return // nothing held back: the first epoch
	}
	time.AfterFunc(e.cfg.KeyTransition, func() {
		if !e.sender.Switch(epoch) {
			return // moved already, or superseded
		}
		e.transitions.timedOut.Add(1)
		e.log.Warnf("epoch %d: sending under its key after %v without every member's word", epoch, e.cfg.KeyTransition)
		if e.cfg.OnSendEpoch != nil {
			e.cfg.OnSendEpoch(epoch)
		}
	})
}

// SendEpoch returns the epoch this device's frames are sent under now: the
// current epoch, or the one before it during a key transition.
func (e *Engine) SendEpoch() uint64 { return e.sender.Epoch() }

// fromBeforeJoin reports whether a frame that found no key is under the
// epoch just before this device's first: a member still in its key
// transition. Only while the device has known one epoch alone.
func fromBeforeJoin(v *rosterView, codec sframe.Codec, data []byte) bool {
	if v == nil || v.prev != nil || v.cur.number == 0 {
		return false
	}
	pre := codec.PrefixLen(data)
	if len(data) <= pre {
		return false
	}
	h, _, err := sframe.ParseHeader(data[pre:])
	return err == nil && h.KID&0xff == (v.cur.number-1)&0xff
}

// transitionCounters count how key transitions ended.
type transitionCounters struct {
	allReady, timedOut atomic.Uint64
}

// KeyTransitions counts this device's key transitions by how they ended.
type KeyTransitions struct {
	// AllReady: every member said it held the new keys first.
	AllReady uint64
	// TimedOut: KeyTransition ran out with members still without them.
	TimedOut uint64
}

// KeyTransitions returns how this device's key transitions have ended.
func (e *Engine) KeyTransitions() KeyTransitions {
	return KeyTransitions{AllReady: e.transitions.allReady.Load(), TimedOut: e.transitions.timedOut.Load()}
}
