package framesig

import "fmt"

// Verdict is what Verifier.Frame says about a frame.
type Verdict int

const (
	// Pending: the frame is recorded and waits for its batch. The caller
	// plays it; if its batch does not match or never comes, its KID is cut.
	Pending Verdict = iota + 1
	// Verified: a valid batch already covered the frame's counter with the
	// same digest.
	Verified
	// Drop: the frame's (epoch, KID) is cut, or the Verifier has no room
	// to follow it; the caller drops the frame.
	Drop
	// Hold: the frame's (epoch, KID) is held — one of its frames went
	// unsigned past MissingAfter — so the caller keeps the frame unplayed
	// and asks Settled about it until it is Verified (play it) or Drop.
	Hold
)

func (v Verdict) String() string {
	switch v {
	case Pending:
		return "pending"
	case Verified:
		return "verified"
	case Drop:
		return "drop"
	case Hold:
		return "hold"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Cut reports that frames under (Epoch, KID) are no longer to be trusted.
type Cut struct {
	Epoch, KID uint64
	// Reason wraps ErrForged, ErrUnsigned or ErrEquivocated and says which
	// counter it is about.
	Reason error
	// Held: not a cut but a hold (ErrUnsigned, past MissingAfter): frames
	// under (Epoch, KID) play from now on only once verified.
	Held bool
}

// Stats counts what a Verifier did. Pending is a current count; the rest
// are totals.
type Stats struct {
	Verified   uint64 // frames a valid batch covered with the same digest
	Pending    int    // frames waiting for their batch now
	Dropped    uint64 // frames answered Drop
	Unverified uint64 // pending frames given up when their KID was cut: played, never verified

	MessagesOK    uint64 // messages whose signature verified
	Malformed     uint64 // messages refused with ErrMalformed
	BadSignature  uint64 // messages refused with ErrBadSignature
	UnknownSender uint64 // messages refused with ErrUnknownSender

	Held           uint64 // (epoch, KID)s held after a frame went unsigned past MissingAfter
	HeldExpired    uint64 // held frames no batch covered within MissingAfter: never played
	CutForged      uint64 // (epoch, KID)s cut with ErrForged
	CutUnsigned    uint64 // … with ErrUnsigned
	CutEquivocated uint64 // … with ErrEquivocated
}
