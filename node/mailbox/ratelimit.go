package mailbox

import (
	"sync"
	"time"
)

// RateConfig sets the token bucket of each sender device. Zero fields take
// the defaults.
type RateConfig struct {
	// Rate is the sustained number of envelopes per second (default 100).
	Rate float64
	// Burst is the bucket size (default 400).
	Burst int
	// MaxSenders bounds the number of buckets kept (default 100 000); when
	// it is reached, buckets that have refilled are forgotten, and if none
	// has, new senders are refused until one does.
	MaxSenders int
	// Clock defaults to SystemClock.
	Clock Clock
}

// Defaults of RateConfig.
const (
	DefaultRate       = 100
	DefaultBurst      = 400
	DefaultMaxSenders = 100_000
)

func (c RateConfig) withDefaults() RateConfig {
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.MaxSenders <= 0 {
		c.MaxSenders = DefaultMaxSenders
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	return c
}

// RateLimiter is a token bucket per key (a sender device), so that a
// flooding sender is slowed down while everyone else is served. It is safe
// for concurrent use.
type RateLimiter struct {
	cfg RateConfig

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter with every bucket full.
func NewRateLimiter(cfg RateConfig) *RateLimiter {
	return &RateLimiter{cfg: cfg.withDefaults(), buckets: make(map[string]*bucket)}
}

// Allow takes a token from key's bucket and reports whether there was one.
func (l *RateLimiter) Allow(key string) bool {
	now := l.cfg.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.cfg.MaxSenders && l.pruneLocked(now) == 0 {
			return false
		}
		b = &bucket{tokens: float64(l.cfg.Burst), last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *RateLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(l.cfg.Burst), b.tokens+elapsed.Seconds()*l.cfg.Rate)
		b.last = now
	}
}

// pruneLocked forgets the buckets that are full again: forgetting them
// changes nothing, as a new bucket starts full.
func (l *RateLimiter) pruneLocked(now time.Time) int {
	n := 0
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.cfg.Burst) {
			delete(l.buckets, k)
			n++
		}
	}
	return n
}

// Len returns the number of buckets kept.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
