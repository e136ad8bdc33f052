package framesig

import (
	"fmt"
	"time"
)

const (
	// DefaultInterval is how long a Signer's batch stays open after its
	// first frame.
	DefaultInterval = 250 * time.Millisecond
	// DefaultMissingAfter is how long a Verifier waits for a frame's batch
	// before cutting its KID, and how long it keeps a batch's digests for
	// frames that arrive after it.
	DefaultMissingAfter = 1500 * time.Millisecond
)

// Option configures NewSigner and NewVerifier. Each ignores the options
// that are not about it.
type Option func(*options)

type options struct {
	now          func() time.Time
	interval     time.Duration
	maxBatch     int
	missingAfter time.Duration
}

func newOptions(opts []Option) (options, error) {
	o := options{now: time.Now, interval: DefaultInterval, maxBatch: MaxBatch, missingAfter: DefaultMissingAfter}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.now == nil:
		return options{}, fmt.Errorf("%w: nil clock", ErrInvalidArgument)
	case o.interval <= 0:
		return options{}, fmt.Errorf("%w: interval %v, want more than 0", ErrInvalidArgument, o.interval)
	case o.maxBatch < 1 || o.maxBatch > MaxBatch:
		return options{}, fmt.Errorf("%w: batch limit %d, want 1..%d", ErrInvalidArgument, o.maxBatch, MaxBatch)
	case o.missingAfter <= 0:
		return options{}, fmt.Errorf("%w: missing-after %v, want more than 0", ErrInvalidArgument, o.missingAfter)
	}
	return o, nil
}

// WithClock sets the clock batches and deadlines are measured on (time.Now
// by default), so tests can move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithInterval sets how long a Signer's batch stays open after its first
// frame (DefaultInterval by default). It must be well under the receivers'
// MissingAfter.
func WithInterval(d time.Duration) Option {
	return func(o *options) { o.interval = d }
}

// WithMaxBatch sets how many frames a Signer's batch holds at most, 1 to
// MaxBatch (the default).
func WithMaxBatch(n int) Option {
	return func(o *options) { o.maxBatch = n }
}

// WithMissingAfter sets how long a Verifier waits for a frame's batch
// before cutting its KID, and keeps a batch's digests
// (DefaultMissingAfter by default).
func WithMissingAfter(d time.Duration) Option {
	return func(o *options) { o.missingAfter = d }
}
