package types

// Scheduling bounds. A scheduled meeting opens at creation as a lobby and
// runs from starts_at for duration_seconds; one that admitted no one by its
// end plus the grace is pruned (see the README, Schedule).
const (
	// MaxScheduleAhead bounds how far ahead a start may be (a year): the
	// meeting, its lobby and its ID are held on chain until then.
	MaxScheduleAhead = 365 * 24 * 60 * 60
	// UnheldGraceSeconds is how long after its scheduled end a meeting that
	// was never held is kept before it is pruned. It is longer than
	// MaxCreateValidity, so no creation is pruned while its signature is
	// still valid (which would let it be replayed).
	UnheldGraceSeconds = 60 * 60
)

// Scheduled says whether the meeting was created for a later start.
func (m Meeting) Scheduled() bool { return m.StartsAt != 0 }

// Started says whether the meeting has started at block time now: an
// unscheduled meeting always has.
func (m Meeting) Started(now int64) bool { return m.StartsAt == 0 || now >= m.StartsAt }

// UnheldDeadline is when a scheduled meeting that never admitted anyone
// but its leader is pruned: its end plus the grace.
func (m Meeting) UnheldDeadline() int64 { return m.ExpiresAt + UnheldGraceSeconds }

// ScheduleEnd is the end of a meeting created at block time now: starts_at
// plus the duration when scheduled, else now plus the duration.
func ScheduleEnd(now, startsAt int64, durationSeconds uint64) int64 {
	if startsAt != 0 {
		return startsAt + int64(durationSeconds)
	}
	return now + int64(durationSeconds)
}
