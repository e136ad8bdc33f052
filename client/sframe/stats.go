package sframe

import (
	"errors"
	"sync/atomic"
)

// Stats counts what a Keyring did with the frames it was given: how many
// it delivered and, by reason, how many it dropped. The counters are
// atomic, so a UI can read them while frames flow.
type Stats struct {
	decrypted  atomic.Uint64
	malformed  atomic.Uint64
	unknownKID atomic.Uint64
	noKey      atomic.Uint64
	replayed   atomic.Uint64
	authFailed atomic.Uint64
	other      atomic.Uint64
}

// StatsSnapshot is a copy of the counters of a Stats at one moment.
type StatsSnapshot struct {
	Decrypted  uint64 // frames authenticated and delivered
	Malformed  uint64 // ErrMalformed: unparsable header, truncated frame
	UnknownKID uint64 // ErrUnknownKID: sender not in the epoch's roster
	NoKey      uint64 // ErrNoKey: epoch not (or no longer) held
	Replayed   uint64 // ErrReplay: counter already seen or too old
	AuthFailed uint64 // ErrAuthFailed: tag did not verify
	Other      uint64 // anything else, such as an unsupported codec
}

// Dropped returns the number of frames rejected for any reason.
func (s StatsSnapshot) Dropped() uint64 {
	return s.Malformed + s.UnknownKID + s.NoKey + s.Replayed + s.AuthFailed + s.Other
}

// Snapshot reads every counter.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Decrypted:  s.decrypted.Load(),
		Malformed:  s.malformed.Load(),
		UnknownKID: s.unknownKID.Load(),
		NoKey:      s.noKey.Load(),
		Replayed:   s.replayed.Load(),
		AuthFailed: s.authFailed.Load(),
		Other:      s.other.Load(),
	}
}

// record counts the outcome of one Decrypt.
func (s *Stats) record(err error) {
	switch {
	case err == nil:
		s.decrypted.Add(1)
	case errors.Is(err, ErrMalformed):
		s.malformed.Add(1)
	case errors.Is(err, ErrUnknownKID):
		s.unknownKID.Add(1)
	case errors.Is(err, ErrNoKey):
		s.noKey.Add(1)
	case errors.Is(err, ErrReplay):
		s.replayed.Add(1)
	case errors.Is(err, ErrAuthFailed):
		s.authFailed.Add(1)
	default:
		s.other.Add(1)
	}
}
