package keyschedule

import (
	"crypto/subtle"
	"fmt"
	"sync"
	"time"
)

// DefaultGrace is how long a superseded epoch's key stays usable for frames
// still in flight.
const DefaultGrace = 2 * time.Second

// EpochKeys holds the meeting keys of one meeting on one device: the current
// epoch's key and, for a grace window, the keys it superseded. Erased keys
// are overwritten with zeros before they are dropped. It is safe for
// concurrent use. Create it with NewEpochKeys; call EraseAll when the
// meeting ends.
type EpochKeys struct {
	now   func() time.Time
	grace time.Duration
	auto  bool

	mu         sync.Mutex
	keys       map[uint64]*epochKey
	erased     map[uint64]struct{}
	current    uint64
	hasCurrent bool
	closed     bool
	timer      *time.Timer
}

type epochKey struct {
	key     []byte
	eraseAt time.Time // zero while the epoch is current
}

// EpochKeysOption configures NewEpochKeys.
type EpochKeysOption func(*EpochKeys)

// WithClock sets the clock that erasure deadlines are measured on
// (time.Now by default), so tests can move time without sleeping.
func WithClock(now func() time.Time) EpochKeysOption {
	return func(s *EpochKeys) { s.now = now }
}

// WithGrace sets the grace window (DefaultGrace by default); zero or less
// erases a superseded key as soon as the next one is installed.
func WithGrace(d time.Duration) EpochKeysOption {
	return func(s *EpochKeys) { s.grace = max(d, 0) }
}

// WithAutoSweep makes the store run Sweep from a timer at each erasure
// deadline, so keys are erased even when nobody calls into the store. The
// timer is stopped by EraseAll. Without it, keys past their deadline are
// erased by Sweep and by every Install, Current and Get.
func WithAutoSweep() EpochKeysOption {
	return func(s *EpochKeys) { s.auto = true }
}

// NewEpochKeys returns an empty store.
func NewEpochKeys(opts ...EpochKeysOption) *EpochKeys {
	s := &EpochKeys{
		now:    time.Now,
		grace:  DefaultGrace,
		keys:   make(map[uint64]*epochKey),
		erased: make(map[uint64]struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Install stores a copy of key as the key of epoch and makes it current; the
// previous current key is erased once the grace window has passed. epoch
// must be newer than the current one (ErrStaleEpoch); installing the current
// epoch again with the same key is a no-op, so a duplicated envelope is
// harmless.
func (s *EpochKeys) Install(epoch uint64, key []byte) error {
	if len(key) != MeetingKeySize {
		return fmt.Errorf("%w: meeting key is %d bytes, want %d", ErrInvalidArgument, len(key), MeetingKeySize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: cannot install epoch %d after EraseAll", ErrStoreClosed, epoch)
	}
	now := s.now()
	if s.hasCurrent {
		cur := s.keys[s.current]
		if epoch == s.current && subtle.ConstantTimeCompare(cur.key, key) == 1 {
			return nil
		}
		if epoch <= s.current {
			return fmt.Errorf("%w: epoch %d, current is %d", ErrStaleEpoch, epoch, s.current)
		}
		cur.eraseAt = now.Add(s.grace)
	}
	s.keys[epoch] = &epochKey{key: append([]byte(nil), key...)}
	s.current, s.hasCurrent = epoch, true
	s.sweepLocked(now)
	s.armLocked(now)
	return nil
}

// Current returns the current epoch and a copy of its key, which the caller
// should clear when done.
func (s *EpochKeys) Current() (uint64, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasCurrent {
		return 0, nil, fmt.Errorf("%w: no epoch installed yet", ErrUnknownEpoch)
	}
	if s.closed {
		return 0, nil, fmt.Errorf("%w: epoch %d (meeting ended)", ErrKeyErased, s.current)
	}
	s.sweepLocked(s.now())
	return s.current, append([]byte(nil), s.keys[s.current].key...), nil
}

// Get returns a copy of the key of epoch (the current one or one still in
// its grace window), which the caller should clear when done.
func (s *EpochKeys) Get(epoch uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
	if k, ok := s.keys[epoch]; ok {
		return append([]byte(nil), k.key...), nil
	}
	if _, ok := s.erased[epoch]; ok {
		return nil, fmt.Errorf("%w: epoch %d", ErrKeyErased, epoch)
	}
	return nil, fmt.Errorf("%w: epoch %d", ErrUnknownEpoch, epoch)
}

// Sweep erases every key whose grace window has passed and returns how many
// it erased.
func (s *EpochKeys) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	now := s.now()
	n := s.sweepLocked(now)
	s.armLocked(now)
	return n
}

// EraseAll erases every key, stops the sweep timer and closes the store: at
// meeting end.
func (s *EpochKeys) EraseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := range s.keys {
		s.eraseLocked(e)
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

func (s *EpochKeys) sweepLocked(now time.Time) int {
	n := 0
	for e, k := range s.keys {
		if !k.eraseAt.IsZero() && !now.Before(k.eraseAt) {
			s.eraseLocked(e)
			n++
		}
	}
	return n
}

func (s *EpochKeys) eraseLocked(epoch uint64) {
	clear(s.keys[epoch].key)
	delete(s.keys, epoch)
	s.erased[epoch] = struct{}{}
}

// armLocked points the timer at the earliest pending deadline.
func (s *EpochKeys) armLocked(now time.Time) {
	if !s.auto || s.closed {
		return
	}
	var next time.Time
	for _, k := range s.keys {
		if !k.eraseAt.IsZero() && (next.IsZero() || k.eraseAt.Before(next)) {
			next = k.eraseAt
		}
	}
	switch {
	case next.IsZero():
		if s.timer != nil {
			s.timer.Stop()
		}
	case s.timer == nil:
		s.timer = time.AfterFunc(next.Sub(now), func() { s.Sweep() })
	default:
		s.timer.Reset(next.Sub(now))
	}
}
