// Package meeting is the meeting registry module: meetings, join requests
// with ephemeral keys, and epochs with rosters and key commitments,
// committed by the leader and replayable by no one. Its contract is
// README.md beside this file.
//
// It must never store anything secret: no key, passcode, title, display
// name, address or SDP; and never let its EndBlocker exceed its budget.
package meeting
