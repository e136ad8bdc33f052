package mailbox

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
)

// StoreConfig bounds a Store. Zero fields take the defaults.
type StoreConfig struct {
	// MaxEnvelopes bounds the number of stored envelopes (default 100 000).
	MaxEnvelopes int
	// MaxBytes bounds the stored bytes, counted as each envelope's encoding
	// plus a fixed bookkeeping charge (default 256 MiB).
	MaxBytes int64
	// MaxSenderEnvelopes and MaxSenderBytes bound what one sender device
	// may hold in the store (defaults 8192 and 16 MiB), so that one device
	// cannot fill the store for everyone else.
	MaxSenderEnvelopes int
	MaxSenderBytes     int64
	// MaxFutureSkew is how far created_at_ms may be ahead of the node's
	// clock (default 5 minutes).
	MaxFutureSkew time.Duration
	// MaxSubscribers bounds open subscriptions (default 10 000).
	MaxSubscribers int
	// SubscriberBuffer is how many live envelopes may wait for a slow
	// subscriber before it is dropped (default 256).
	SubscriberBuffer int
	// Clock defaults to SystemClock.
	Clock Clock
}

// Defaults of StoreConfig.
const (
	DefaultMaxEnvelopes       = 100_000
	DefaultMaxBytes           = 256 << 20
	DefaultMaxSenderEnvelopes = 8192
	DefaultMaxSenderBytes     = 16 << 20
	DefaultMaxFutureSkew      = 5 * time.Minute
	DefaultMaxSubscribers     = 10_000
	DefaultSubscriberBuffer   = 256

	// entryOverhead is charged per envelope on top of its encoding, for the
	// maps, heap slot and entry around it.
	entryOverhead = 512
	// maxSweepWait caps how long the sweeper sleeps, so that it also makes
	// progress with a clock that does not follow the wall clock.
	maxSweepWait = time.Second
)

func (c StoreConfig) withDefaults() StoreConfig {
	if c.MaxEnvelopes <= 0 {
		c.MaxEnvelopes = DefaultMaxEnvelopes
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxSenderEnvelopes <= 0 {
		c.MaxSenderEnvelopes = DefaultMaxSenderEnvelopes
	}
	if c.MaxSenderBytes <= 0 {
		c.MaxSenderBytes = DefaultMaxSenderBytes
	}
	if c.MaxFutureSkew <= 0 {
		c.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if c.MaxSubscribers <= 0 {
		c.MaxSubscribers = DefaultMaxSubscribers
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	return c
}

type recipient = [mailboxv1.RecipientSize]byte

type entry struct {
	id      [mailboxv1.IDSize]byte
	env     *mailboxv1.Envelope
	to      recipient
	sender  string
	expires time.Time
	cost    int64
	seq     uint64
	index   int // in the expiry heap
}

type usage struct {
	n     int
	bytes int64
}

// Store keeps envelopes in memory until they expire: deduplicated by ID,
// indexed by recipient, bounded in count and bytes overall and per sender.
// It feeds live subscriptions. Envelopes in it are shared and must not be
// modified. Run sweeps expired envelopes; Close ends the subscriptions.
// A Store is safe for concurrent use.
type Store struct {
	cfg  StoreConfig
	wake chan struct{}

	mu       sync.Mutex
	closed   bool
	byID     map[[mailboxv1.IDSize]byte]*entry
	byTo     map[recipient]map[*entry]struct{}
	bySender map[string]*usage
	expiry   expiryHeap
	bytes    int64
	seq      uint64
	subs     map[recipient]map[*Subscription]struct{}
	nsubs    int
}

// NewStore returns an empty store. Nothing runs until Run is called.
func NewStore(cfg StoreConfig) *Store {
	return &Store{
		cfg:      cfg.withDefaults(),
		wake:     make(chan struct{}, 1),
		byID:     make(map[[mailboxv1.IDSize]byte]*entry),
		byTo:     make(map[recipient]map[*entry]struct{}),
		bySender: make(map[string]*usage),
		subs:     make(map[recipient]map[*Subscription]struct{}),
	}
}

// Config returns the store's configuration with defaults filled in.
func (s *Store) Config() StoreConfig { return s.cfg }

// CheckTime checks e's timestamps against the node's clock: not created
// more than MaxFutureSkew ahead, not yet expired.
func (s *Store) CheckTime(e *mailboxv1.Envelope) error {
	_, err := s.expiresAt(e, s.cfg.Clock.Now())
	return err
}

func (s *Store) expiresAt(e *mailboxv1.Envelope, now time.Time) (time.Time, error) {
	created := time.UnixMilli(e.CreatedAtMs)
	if ahead := created.Sub(now); ahead > s.cfg.MaxFutureSkew {
		return time.Time{}, fmt.Errorf("%w: created_at_ms %d is %v ahead of this node's clock, at most %v allowed",
			ErrFromFuture, e.CreatedAtMs, ahead.Round(time.Millisecond), s.cfg.MaxFutureSkew)
	}
	expires := created.Add(time.Duration(e.TtlSeconds) * time.Second)
	if !now.Before(expires) {
		return time.Time{}, fmt.Errorf("%w: created_at_ms %d + ttl_seconds %d passed %v ago by this node's clock",
			ErrExpired, e.CreatedAtMs, e.TtlSeconds, now.Sub(expires).Round(time.Millisecond))
	}
	return expires, nil
}

// Has reports whether an envelope with this ID is stored.
func (s *Store) Has(id [mailboxv1.IDSize]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.byID[id]
	return ok
}

// Len returns the number of stored envelopes and the bytes charged for them.
func (s *Store) Len() (n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID), s.bytes
}

// Add stores e, which must have passed mailboxv1.Validate and signature
// verification, and hands it to matching subscriptions. It returns e's ID,
// and ErrDuplicate if the store already holds it.
func (s *Store) Add(e *mailboxv1.Envelope) ([mailboxv1.IDSize]byte, error) {
	id := mailboxv1.ID(e)
	return id, s.add(id, e)
}

func (s *Store) add(id [mailboxv1.IDSize]byte, e *mailboxv1.Envelope) error {
	if len(e.To) != mailboxv1.RecipientSize {
		return fmt.Errorf("%w: to: want %d bytes, got %d", mailboxv1.ErrInvalidEnvelope, mailboxv1.RecipientSize, len(e.To))
	}
	now := s.cfg.Clock.Now()
	expires, err := s.expiresAt(e, now)
	if err != nil {
		return err
	}
	en := &entry{
		id:      id,
		env:     e,
		to:      recipient(e.To),
		sender:  senderKey(e.FromUser, e.FromDevice),
		expires: expires,
		cost:    int64(e.Size()) + entryOverhead,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.byID[id]; ok {
		return fmt.Errorf("%w: %x", ErrDuplicate, id[:8])
	}
	if err := s.limitLocked(en); err != nil {
		// Make room from what has expired before turning anyone away.
		s.sweepLocked(now)
		if err := s.limitLocked(en); err != nil {
			return err
		}
	}
	u := s.bySender[en.sender]
	if u == nil {
		u = &usage{}
	}

	s.seq++
	en.seq = s.seq
	s.byID[id] = en
	byTo := s.byTo[en.to]
	if byTo == nil {
		byTo = make(map[*entry]struct{})
		s.byTo[en.to] = byTo
	}
	byTo[en] = struct{}{}
	u.n++
	u.bytes += en.cost
	s.bySender[en.sender] = u
	s.bytes += en.cost
	heap.Push(&s.expiry, en)
	if en.index == 0 {
		// A new earliest expiry: the sweeper must not sleep past it.
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.publishLocked(en)
	return nil
}

// limitLocked says whether en would exceed a bound of the store or of its
// sender.
func (s *Store) limitLocked(en *entry) error {
	if len(s.byID)+1 > s.cfg.MaxEnvelopes {
		return fmt.Errorf("%w: holds %d envelopes, the maximum", ErrStoreFull, len(s.byID))
	}
	if s.bytes+en.cost > s.cfg.MaxBytes {
		return fmt.Errorf("%w: holds %d of %d bytes, %d more do not fit", ErrStoreFull, s.bytes, s.cfg.MaxBytes, en.cost)
	}
	var u usage
	if p := s.bySender[en.sender]; p != nil {
		u = *p
	}
	if u.n+1 > s.cfg.MaxSenderEnvelopes {
		return fmt.Errorf("%w: %s holds %d envelopes, at most %d", ErrSenderQuota, en.sender, u.n, s.cfg.MaxSenderEnvelopes)
	}
	if u.bytes+en.cost > s.cfg.MaxSenderBytes {
		return fmt.Errorf("%w: %s holds %d bytes, at most %d", ErrSenderQuota, en.sender, u.bytes, s.cfg.MaxSenderBytes)
	}
	return nil
}

// Sweep deletes every envelope whose time is up and returns how many.
func (s *Store) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepLocked(s.cfg.Clock.Now())
}

func (s *Store) sweepLocked(now time.Time) int {
	n := 0
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].expires) {
		en := heap.Pop(&s.expiry).(*entry)
		s.removeLocked(en)
		n++
	}
	return n
}

func (s *Store) removeLocked(en *entry) {
	delete(s.byID, en.id)
	if byTo := s.byTo[en.to]; byTo != nil {
		delete(byTo, en)
		if len(byTo) == 0 {
			delete(s.byTo, en.to)
		}
	}
	if u := s.bySender[en.sender]; u != nil {
		u.n--
		u.bytes -= en.cost
		if u.n == 0 {
			delete(s.bySender, en.sender)
		}
	}
	s.bytes -= en.cost
}

// nextSweep returns how long the sweeper may sleep.
func (s *Store) nextSweep() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.expiry) == 0 {
		return maxSweepWait
	}
	d := s.expiry[0].expires.Sub(s.cfg.Clock.Now())
	return min(max(d, 0), maxSweepWait)
}

// Run deletes envelopes as their time comes, until ctx is done. Its caller
// owns the goroutine; Run returns nil when ctx ends.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTimer(s.nextSweep())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		s.Sweep()
		t.Reset(s.nextSweep())
	}
}

// Close ends every subscription with ErrClosed and refuses further
// envelopes and subscriptions.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, subs := range s.subs {
		for sub := range subs {
			s.endLocked(sub, ErrClosed)
		}
	}
}

// senderKey keys a sender's quota and rate: its device's DeviceRef text.
func senderKey(user, device string) string { return ids.DeviceRef{User: user, Device: device}.String() }

// expiryHeap orders entries by expiry, then by arrival.
type expiryHeap []*entry

func (h expiryHeap) Len() int { return len(h) }
func (h expiryHeap) Less(i, j int) bool {
	if !h[i].expires.Equal(h[j].expires) {
		return h[i].expires.Before(h[j].expires)
	}
	return h[i].seq < h[j].seq
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	en := x.(*entry)
	en.index = len(*h)
	*h = append(*h, en)
}

func (h *expiryHeap) Pop() any {
	old := *h
	en := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	en.index = -1
	return en
}
