package sframe

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Sender encrypts the media frames of this device under its key for the
// current epoch. All of the device's tracks share one Sender, because they
// share one KID and so one counter sequence: each frame takes the next
// counter, and no counter is used twice. It is safe for concurrent use.
// Create it with NewSender; call EraseAll when the meeting ends.
type Sender struct {
	opts   options
	tagLen int

	mu     sync.RWMutex
	cur    *sendEpoch
	staged *sendEpoch // Stage's key, until Switch or a newer Stage
	closed bool
}

type sendEpoch struct {
	epoch uint64
	key   *Key
	next  atomic.Uint64 // the counter the next frame takes
}

// NewSender returns a sender with no epoch; Encrypt fails with ErrNoKey
// until SetEpoch. Of the options, only WithSuite applies.
func NewSender(opts ...Option) (*Sender, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Sender{opts: o, tagLen: o.suite.TagSize()}, nil
}

// SetEpoch switches to epoch, whose meeting key is mk and in whose sorted
// roster this device is at senderIndex. Counters start again at 0 under the
// new KID. The old key is erased at once: frames already encrypted need it
// no more. epoch must be newer than the current one (ErrStaleEpoch). The
// sender keeps no copy of mk.
func (s *Sender) SetEpoch(epoch uint64, mk []byte, senderIndex uint32) error {
	k, err := newSenderKey(s.opts.suite, mk, senderIndex, epoch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		k.Erase()
		return fmt.Errorf("%w: cannot set epoch %d after EraseAll", ErrClosed, epoch)
	case s.cur != nil && epoch <= s.cur.epoch:
		k.Erase()
		return fmt.Errorf("%w: epoch %d, current is %d", ErrStaleEpoch, epoch, s.cur.epoch)
	}
	if s.cur != nil {
		s.cur.key.Erase()
	}
	if s.staged != nil && s.staged.epoch <= epoch {
		s.staged.key.Erase()
		s.staged = nil
	}
	s.cur = &sendEpoch{epoch: epoch, key: k}
	return nil
}

// Stage derives the key of epoch as SetEpoch does but keeps sending under
// the current one until Switch(epoch): a member moves to a new epoch only
// once the others can decrypt it. Before any SetEpoch it is SetEpoch. A
// newer Stage replaces (and erases) a staged key not yet switched to.
func (s *Sender) Stage(epoch uint64, mk []byte, senderIndex uint32) error {
	k, err := newSenderKey(s.opts.suite, mk, senderIndex, epoch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		k.Erase()
		return fmt.Errorf("%w: cannot stage epoch %d after EraseAll", ErrClosed, epoch)
	case s.cur != nil && epoch <= s.cur.epoch, s.staged != nil && epoch <= s.staged.epoch:
		k.Erase()
		return fmt.Errorf("%w: staging epoch %d, current is %d", ErrStaleEpoch, epoch, s.epochLocked())
	}
	if s.cur == nil {
		s.cur = &sendEpoch{epoch: epoch, key: k} // nothing to keep sending under
		return nil
	}
	if s.staged != nil {
		s.staged.key.Erase()
	}
	s.staged = &sendEpoch{epoch: epoch, key: k}
	return nil
}

// Switch moves to the staged key if it is epoch's, erasing the current
// one, and reports whether it did.
func (s *Sender) Switch(epoch uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.staged == nil || s.staged.epoch != epoch {
		return false
	}
	if s.cur != nil {
		s.cur.key.Erase()
	}
	s.cur, s.staged = s.staged, nil
	return true
}

// Staged returns the epoch of a staged key not yet switched to.
func (s *Sender) Staged() (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.staged == nil {
		return 0, false
	}
	return s.staged.epoch, true
}

// Epoch returns the epoch frames are sent under now, 0 before SetEpoch.
func (s *Sender) Epoch() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epochLocked()
}

func (s *Sender) epochLocked() uint64 {
	if s.cur == nil {
		return 0
	}
	return s.cur.epoch
}

// KID returns the KID frames are sent under now, and false before SetEpoch
// and after EraseAll.
func (s *Sender) KID() (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return 0, false
	}
	return s.cur.key.KID(), true
}

// Encrypt encrypts one media frame of codec and appends
// clear_prefix || sframe_header || ciphertext || tag to dst (see the
// package doc). dst may overlap frame; then a new buffer is allocated.
func (s *Sender) Encrypt(dst []byte, codec Codec, frame []byte) ([]byte, error) {
	if err := codec.check(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.cur
	if e == nil {
		if s.closed {
			return nil, fmt.Errorf("%w: sender erased", ErrClosed)
		}
		return nil, fmt.Errorf("%w: no epoch set", ErrNoKey)
	}
	ctr, err := e.take()
	if err != nil {
		return nil, err
	}
	p := codec.PrefixLen(frame)
	h := Header{KID: e.key.KID(), CTR: ctr}
	hl := h.Len()
	ret, out := growApart(dst, len(frame)+hl+s.tagLen, frame)
	copy(out, frame[:p])
	hdr := h.Append(out[p:p])
	if err := e.key.sealInto(out[p+hl:], ctr, hdr, frame[:p], frame[p:]); err != nil {
		return nil, err
	}
	return ret, nil
}

// take reserves the next counter. It stops one short of wrapping, since a
// wrapped counter would repeat a nonce.
func (e *sendEpoch) take() (uint64, error) {
	for {
		c := e.next.Load()
		if c == math.MaxUint64 {
			return 0, fmt.Errorf("%w: KID %d", ErrCounterExhausted, e.key.KID())
		}
		if e.next.CompareAndSwap(c, c+1) {
			return c, nil
		}
	}
}

// EraseAll erases the key and closes the sender: at meeting end.
func (s *Sender) EraseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.key.Erase()
	}
	if s.staged != nil {
		s.staged.key.Erase()
	}
	s.cur, s.staged, s.closed = nil, nil, true
}
