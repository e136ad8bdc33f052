package types

import "cosmossdk.io/errors"

// Defaults a person would expect: large meetings allowed, a day-long
// meeting at most, a leader that misses a due rekey for ~10 s (at 300 ms
// blocks) replaced, requests that wait ~10 minutes, and ended meetings
// kept ~1 hour for audit before pruning.
const (
	DefaultMaxParticipants     = 1000
	DefaultMaxPendingRequests  = 256
	DefaultMaxDurationSeconds  = 24 * 60 * 60
	DefaultLeaderTimeoutBlocks = 30
	DefaultRequestTTLBlocks    = 2000
	DefaultRetentionBlocks     = 12000
	DefaultEndBlockBudget      = 200
)

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{
		MaxParticipants:     DefaultMaxParticipants,
		MaxPendingRequests:  DefaultMaxPendingRequests,
		MaxDurationSeconds:  DefaultMaxDurationSeconds,
		LeaderTimeoutBlocks: DefaultLeaderTimeoutBlocks,
		RequestTtlBlocks:    DefaultRequestTTLBlocks,
		RetentionBlocks:     DefaultRetentionBlocks,
		EndBlockBudget:      DefaultEndBlockBudget,
	}
}

// Validate checks every parameter is within sane bounds.
func (p Params) Validate() error {
	check := func(name string, v, lo, hi uint64) error {
		if v < lo || v > hi {
			return errors.Wrapf(ErrInvalidParams, "%s: want %d..%d, got %d", name, lo, hi, v)
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		v, lo, hi uint64
	}{
		{"max_participants", uint64(p.MaxParticipants), 2, 10000},
		{"max_pending_requests", uint64(p.MaxPendingRequests), 1, 10000},
		{"max_duration_seconds", p.MaxDurationSeconds, 60, 30 * 24 * 3600},
		{"leader_timeout_blocks", p.LeaderTimeoutBlocks, 1, 1_000_000},
		{"request_ttl_blocks", p.RequestTtlBlocks, 1, 10_000_000},
		{"retention_blocks", p.RetentionBlocks, 0, 100_000_000},
		{"end_block_budget", uint64(p.EndBlockBudget), 1, 100_000},
	} {
		if err := check(c.name, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	return nil
}
