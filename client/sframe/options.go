package sframe

import "time"

// DefaultGrace is how long a superseded epoch's keys stay usable for frames
// still in flight (DESIGN.md section 5).
const DefaultGrace = 2 * time.Second

// Option configures NewKeyring and NewSender.
type Option func(*options)

type options struct {
	suite     CipherSuite
	grace     time.Duration
	now       func() time.Time
	autoSweep bool
}

func newOptions(opts []Option) (options, error) {
	o := options{suite: DefaultSuite, grace: DefaultGrace, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if _, err := o.suite.params(); err != nil {
		return options{}, err
	}
	return o, nil
}

// WithSuite sets the cipher suite (DefaultSuite by default). Every member
// of a meeting must use the same one.
func WithSuite(s CipherSuite) Option {
	return func(o *options) { o.suite = s }
}

// WithGrace sets how long a Keyring keeps the previous epoch's keys after
// SetEpoch (DefaultGrace by default); zero or less erases them at once.
// A Sender has no use for old keys and ignores it.
func WithGrace(d time.Duration) Option {
	return func(o *options) { o.grace = max(d, 0) }
}

// WithClock sets the clock grace windows are measured on (time.Now by
// default), so tests can move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithAutoSweep makes a Keyring run Sweep from a timer when the grace
// window ends, so old keys are erased even when no frame arrives. EraseAll
// stops the timer. Without it, keys past their window are erased by Sweep,
// SetEpoch and the first Decrypt that asks for them.
func WithAutoSweep() Option {
	return func(o *options) { o.autoSweep = true }
}
