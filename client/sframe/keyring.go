package sframe

import (
	"fmt"
	"sync"
	"time"
)

// MaxRosterSize bounds the senders of one epoch. A Keyring derives every
// sender's key when the epoch is set, so that MK_e need not be kept and no
// frame waits on a derivation; the bound caps that work and memory.
const MaxRosterSize = 1024

// Keyring holds, for one receiving device in one meeting, the per-sender
// SFrame keys of the current epoch and, for a grace window after a switch,
// of the previous one, each with its replay window. It decrypts the frames
// of every other member and counts what it drops. It is safe for
// concurrent use. Create it with NewKeyring; call EraseAll when the meeting
// ends.
type Keyring struct {
	opts   options
	tagLen int
	stats  Stats

	mu        sync.RWMutex
	cur       *epochKeys
	prev      *epochKeys // superseded; erased once prevUntil has passed
	prevUntil time.Time
	closed    bool
	timer     *time.Timer
}

// epochKeys are the keys of every sender of one epoch, indexed by sender
// index.
type epochKeys struct {
	epoch   uint64
	senders []senderState
	erased  bool
}

type senderState struct {
	key    *Key
	replay replayWindow
}

// NewKeyring returns a keyring with no epoch; every frame is dropped with
// ErrNoKey until SetEpoch.
func NewKeyring(opts ...Option) (*Keyring, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Keyring{opts: o, tagLen: o.suite.TagSize()}, nil
}

// SetEpoch installs the keys of epoch, derived from its meeting key mk for
// sender indexes 0 to rosterSize-1, and makes it current. The keyring keeps
// no copy of mk; the caller still owns and clears it. The previous current
// epoch stays usable for the grace window; any older one is erased now.
// epoch must be newer than the current one (ErrStaleEpoch).
func (r *Keyring) SetEpoch(epoch uint64, mk []byte, rosterSize int) error {
	if rosterSize < 1 || rosterSize > MaxRosterSize {
		return fmt.Errorf("%w: roster of %d members, want 1 to %d", ErrInvalidArgument, rosterSize, MaxRosterSize)
	}
	e := &epochKeys{epoch: epoch, senders: make([]senderState, rosterSize)}
	for i := range e.senders {
		k, err := newSenderKey(r.opts.suite, mk, uint32(i), epoch) //nolint:gosec // i < MaxRosterSize
		if err != nil {
			e.erase()
			return err
		}
		e.senders[i].key = k
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		e.erase()
		return fmt.Errorf("%w: cannot set epoch %d after EraseAll", ErrClosed, epoch)
	case r.cur != nil && epoch <= r.cur.epoch:
		e.erase()
		return fmt.Errorf("%w: epoch %d, current is %d", ErrStaleEpoch, epoch, r.cur.epoch)
	}
	now := r.opts.now()
	if r.prev != nil {
		r.prev.erase()
	}
	r.prev, r.cur = r.cur, e
	r.prevUntil = now.Add(r.opts.grace)
	// An epoch 256 (or a multiple) ahead has the same KIDs as the one it
	// replaces, so the old keys could never be told apart: drop them now.
	if r.prev != nil && (r.opts.grace == 0 || r.prev.epoch&0xff == epoch&0xff) {
		r.prev.erase()
	}
	r.armLocked()
	return nil
}

// Epoch returns the current epoch, and false if none was set.
func (r *Keyring) Epoch() (uint64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.cur == nil {
		return 0, false
	}
	return r.cur.epoch, true
}

// lookupLocked finds the sender state of kid. expired reports a previous
// epoch past its grace window that Sweep should now erase.
func (r *Keyring) lookupLocked(kid uint64) (s *senderState, expired bool, err error) {
	var e *epochKeys
	switch tag := kid & 0xff; {
	case r.cur != nil && r.cur.epoch&0xff == tag:
		e = r.cur
	case r.prev != nil && r.prev.epoch&0xff == tag:
		if r.prev.erased {
			return nil, false, fmt.Errorf("%w: KID %d: epoch %d was erased", ErrNoKey, kid, r.prev.epoch)
		}
		if !r.opts.now().Before(r.prevUntil) {
			return nil, true, fmt.Errorf("%w: KID %d: epoch %d is past its grace window", ErrNoKey, kid, r.prev.epoch)
		}
		e = r.prev
	default:
		return nil, false, fmt.Errorf("%w: KID %d: no epoch ending in byte %d is held", ErrNoKey, kid, tag)
	}
	idx := kid >> 8
	if idx >= uint64(len(e.senders)) {
		return nil, false, fmt.Errorf("%w: KID %d: sender %d is not in the %d-member roster of epoch %d",
			ErrUnknownKID, kid, idx, len(e.senders), e.epoch)
	}
	return &e.senders[idx], false, nil
}

// Sweep erases the previous epoch's keys if its grace window has passed,
// and reports whether it did.
func (r *Keyring) Sweep() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sweepLocked()
}

func (r *Keyring) sweepLocked() bool {
	if r.prev == nil || r.prev.erased || r.opts.now().Before(r.prevUntil) {
		return false
	}
	r.prev.erase()
	return true
}

// EraseAll erases every key, stops the sweep timer and closes the keyring:
// at meeting end. Later frames fail with ErrNoKey, SetEpoch with ErrClosed.
func (r *Keyring) EraseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range []*epochKeys{r.cur, r.prev} {
		if e != nil {
			e.erase()
		}
	}
	r.cur, r.prev, r.closed = nil, nil, true
	if r.timer != nil {
		r.timer.Stop()
	}
}

// Stats returns the counts of delivered and dropped frames so far.
func (r *Keyring) Stats() StatsSnapshot {
	return r.stats.Snapshot()
}

// armLocked starts the sweep timer for a previous epoch still in its grace
// window.
func (r *Keyring) armLocked() {
	if !r.opts.autoSweep || r.prev == nil || r.prev.erased {
		return
	}
	d := r.prevUntil.Sub(r.opts.now())
	if r.timer == nil {
		r.timer = time.AfterFunc(d, func() { r.Sweep() })
		return
	}
	r.timer.Reset(d)
}

// erase overwrites every key of e and keeps e only as a record that the
// epoch existed.
func (e *epochKeys) erase() {
	for i := range e.senders {
		if k := e.senders[i].key; k != nil {
			k.Erase()
		}
	}
	e.senders, e.erased = nil, true
}
