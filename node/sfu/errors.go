package sfu

import "errors"

// Errors of the relay. Every error Join returns wraps one of these with %w
// and says what was wrong: which field, which m-line, which limit.
var (
	// ErrBadRequest: the JoinRequest itself is malformed (an empty or
	// oversized meeting ID, user or device).
	ErrBadRequest = errors.New("sfu: bad join request")
	// ErrBadOffer: the offer does not follow the wire contract (doc.go) or
	// pion refused it.
	ErrBadOffer = errors.New("sfu: bad offer")
	// ErrFull: the relay serves as many sessions as Config.MaxSessions.
	ErrFull = errors.New("sfu: relay full")
	// ErrMeetingFull: the meeting has as many sessions as
	// Config.MaxPerMeeting.
	ErrMeetingFull = errors.New("sfu: meeting full")
	// ErrClosed: the relay is closed or closing.
	ErrClosed = errors.New("sfu: closed")
	// ErrGathering: the relay's ICE candidates were not gathered before the
	// Join's context ended.
	ErrGathering = errors.New("sfu: ICE gathering did not complete")
	// ErrBadPeerMessage: a peer relay's message does not decode or breaks
	// the cascade's bounds (api/cascade/v1). No honest relay sends one.
	ErrBadPeerMessage = errors.New("sfu: bad peer message")
	// ErrPeerLimit: a peer relay's message was dropped because the peer
	// sends too fast or holds as much as the relay keeps for a peer.
	ErrPeerLimit = errors.New("sfu: peer over its limits")
)
