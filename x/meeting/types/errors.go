package types

import "cosmossdk.io/errors"

// Registered errors of x/meeting. Codes start at 2; 0 and 1 are reserved.
var (
	ErrInvalidMeetingID  = errors.Register(ModuleName, 2, "invalid meeting_id")
	ErrMeetingExists     = errors.Register(ModuleName, 3, "meeting already exists")
	ErrMeetingNotFound   = errors.Register(ModuleName, 4, "meeting not found")
	ErrMeetingEnded      = errors.Register(ModuleName, 5, "meeting has ended")
	ErrMeetingExpired    = errors.Register(ModuleName, 6, "meeting has expired")
	ErrInvalidEphKey     = errors.Register(ModuleName, 7, "invalid ephemeral public key")
	ErrNotAllowed        = errors.Register(ModuleName, 8, "user is not on the meeting's allowlist")
	ErrDuplicateRequest  = errors.Register(ModuleName, 9, "device already has an open request")
	ErrTooManyRequests   = errors.Register(ModuleName, 10, "too many pending requests")
	ErrNotLeader         = errors.Register(ModuleName, 11, "not the meeting's leader")
	ErrWrongEpoch        = errors.Register(ModuleName, 12, "epoch must be the current epoch plus one")
	ErrNoRequest         = errors.Register(ModuleName, 13, "member has no pending or admitted request")
	ErrRosterTooLarge    = errors.Register(ModuleName, 14, "roster over the participant limit")
	ErrInvalidRoster     = errors.Register(ModuleName, 15, "invalid roster")
	ErrInvalidCommitment = errors.Register(ModuleName, 16, "invalid key commitment")
	ErrInvalidReason     = errors.Register(ModuleName, 17, "invalid epoch reason")
	ErrNotMember         = errors.Register(ModuleName, 18, "not a member of the current epoch")
	ErrClaimTooEarly     = errors.Register(ModuleName, 19, "leadership claim before the leader timed out")
	ErrNotFirstInLine    = errors.Register(ModuleName, 20, "claimant is not first in line")
	ErrLeaderCannotLeave = errors.Register(ModuleName, 21, "the leader cannot leave")
	ErrInvalidPolicy     = errors.Register(ModuleName, 22, "invalid policy")
	ErrInvalidDuration   = errors.Register(ModuleName, 23, "invalid duration")
	ErrInvalidSealed     = errors.Register(ModuleName, 24, "sealed field too large")
	ErrInvalidParams     = errors.Register(ModuleName, 25, "invalid params")
	ErrUnauthorized      = errors.Register(ModuleName, 26, "unauthorized")
	ErrInvalidGenesis    = errors.Register(ModuleName, 27, "invalid genesis state")
	ErrInvalidAddress    = errors.Register(ModuleName, 28, "invalid address")
	ErrNotRequested      = errors.Register(ModuleName, 29, "device has no request in this meeting")
	ErrEphKeyReused      = errors.Register(ModuleName, 30, "ephemeral key already used in this meeting")
	ErrSignatureExpired  = errors.Register(ModuleName, 31, "signed message outside its validity window")
	// ErrRosterHashMismatch: the leader's roster hash is not the one the
	// chain computes from its own join requests (the leader was shown a
	// different key, e.g. by a lying node).
	ErrRosterHashMismatch = errors.Register(ModuleName, 32, "roster hash does not match the join requests")
	// ErrInvalidSchedule: a start in the past, too far ahead, or a
	// duration out of bounds for a scheduled meeting.
	ErrInvalidSchedule = errors.Register(ModuleName, 33, "invalid schedule")
	// ErrNotStarted: a scheduled meeting admits no one before its start.
	ErrNotStarted = errors.Register(ModuleName, 34, "meeting has not started")
)
