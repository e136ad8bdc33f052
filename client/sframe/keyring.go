package sframe

import (
	"errors"
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

// Decrypt authenticates and decrypts one media frame of codec, laid out as
// clear_prefix || sframe_header || ciphertext || tag (see the package
// doc), and appends the original frame, clear_prefix || plaintext, to dst.
// A frame that is malformed, names an unknown sender or an epoch whose keys
// are not held, replays a counter, or fails authentication is dropped with
// an error wrapping ErrMalformed, ErrUnknownKID, ErrNoKey, ErrReplay or
// ErrAuthFailed, and counted in Stats. dst may overlap frame; then a new
// buffer is allocated.
func (r *Keyring) Decrypt(dst []byte, codec Codec, frame []byte) ([]byte, error) {
	out, err := r.decrypt(dst, codec, frame)
	r.stats.record(err)
	return out, err
}

func (r *Keyring) decrypt(dst []byte, codec Codec, frame []byte) ([]byte, error) {
	if err := codec.check(); err != nil {
		return nil, err
	}
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: %w: empty frame", ErrMalformed, ErrTruncated)
	}
	n := codec.prefixFor(frame[0])
	var best error
	if len(frame) > n {
		out, err := r.open(dst, frame[:n], frame[n:])
		if err == nil {
			return out, nil
		}
		best = err
	}
	// A frame shorter than its codec's prefix was sent whole as the prefix,
	// with an empty plaintext, so its header ends where the tag starts.
	// Any shorter prefix that fits that shape is tried; only the split the
	// sender used can authenticate. Such frames are at most
	// maxPrefix+MaxHeaderSize+Nt bytes, so this costs little.
	for p := min(n, len(frame)) - 1; p >= 0; p-- {
		_, hl, err := ParseHeader(frame[p:])
		if err != nil || p+hl+r.tagLen != len(frame) {
			continue
		}
		out, err := r.open(dst, frame[:p], frame[p:])
		if err == nil {
			return out, nil
		}
		if rank(err) > rank(best) {
			best = err
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: %w: %v frame of %d bytes", ErrMalformed, ErrTruncated, codec, len(frame))
	}
	return nil, best
}

// rank orders rejection reasons by how far the frame got, so that the
// reported one is the most telling when several splits were tried.
func rank(err error) int {
	for i, target := range rejectionOrder {
		if errors.Is(err, target) {
			return len(rejectionOrder) - i
		}
	}
	return 0
}

var rejectionOrder = []error{ErrReplay, ErrAuthFailed, ErrNoKey, ErrUnknownKID, ErrMalformed}

// open decrypts rest (header || ciphertext || tag) with AAD header ||
// prefix and appends prefix || plaintext to dst.
func (r *Keyring) open(dst, prefix, rest []byte) ([]byte, error) {
	h, hl, err := ParseHeader(rest)
	if err != nil {
		return nil, err
	}
	ct := rest[hl:]
	if len(ct) < r.tagLen {
		return nil, truncatedTag(len(ct), r.tagLen)
	}
	out, expired, err := r.openLocked(dst, h, prefix, rest[:hl], ct)
	if expired {
		r.Sweep()
	}
	return out, err
}

func (r *Keyring) openLocked(dst []byte, h Header, prefix, hdr, ct []byte) (out []byte, expired bool, err error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, expired, err := r.lookupLocked(h.KID)
	if err != nil {
		return nil, expired, err
	}
	if err := s.replay.check(h.CTR); err != nil {
		return nil, false, fmt.Errorf("KID %d: %w", h.KID, err)
	}
	ret, tail := growApart(dst, len(prefix)+len(ct)-r.tagLen, prefix, hdr, ct)
	copy(tail, prefix)
	if err := s.key.openInto(tail[len(prefix):], h.CTR, hdr, prefix, ct); err != nil {
		return nil, false, err
	}
	if err := s.replay.accept(h.CTR); err != nil {
		return nil, false, fmt.Errorf("KID %d: %w", h.KID, err)
	}
	return ret, false, nil
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
