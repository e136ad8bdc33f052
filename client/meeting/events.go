package meeting

import (
	"fmt"

	"github.com/parleynet/parley/client/identity"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Event is something a session reports.
type Event interface{ fmt.Stringer }

// EventKey: a new epoch key is installed.
type EventKey struct {
	Epoch       uint64
	Code        string
	Members     []Member
	SenderIndex int
}

func (e EventKey) String() string {
	return fmt.Sprintf("epoch %d: %d members, security code %s", e.Epoch, len(e.Members), e.Code)
}

// EventProblem: something was rejected; Peer names who, Err says why. The
// session stays on its last good key.
type EventProblem struct {
	Peer string
	Err  error
}

func (e EventProblem) String() string { return fmt.Sprintf("problem with %s: %v", e.Peer, e.Err) }

// EventLeader: this device became the leader.
type EventLeader struct{ Claimed bool }

func (e EventLeader) String() string {
	if e.Claimed {
		return "claimed leadership after the leader timed out"
	}
	return "this device leads the meeting"
}

// EventLeaderLeft: this device led the meeting and no longer does (it
// transferred the leadership, or a member claimed it); Leader leads now.
type EventLeaderLeft struct{ Leader DeviceRef }

func (e EventLeaderLeft) String() string {
	return fmt.Sprintf("%s leads the meeting now; this device is a member", e.Leader)
}

// EventRemoved: this device is not in the latest roster.
type EventRemoved struct{ Epoch uint64 }

func (e EventRemoved) String() string {
	return fmt.Sprintf("removed from the meeting at epoch %d", e.Epoch)
}

// EventEnded: the meeting ended.
type EventEnded struct{}

func (EventEnded) String() string { return "the meeting ended" }

// EventRemovedAsks: a device the leader removed asks to join again. It is
// not admitted until the leader lets it back in (Session.Readmit,
// `parley meeting admit`).
type EventRemovedAsks struct{ Device DeviceRef }

func (e EventRemovedAsks) String() string {
	return fmt.Sprintf("%s, removed earlier, asks to join again: admit it explicitly to let it back in", e.Device)
}

// EventFull: the leader did not admit a device because the meeting has as
// many members as its call carries; the device was told.
type EventFull struct {
	Device DeviceRef
	Limit  int
}

func (e EventFull) String() string {
	return fmt.Sprintf("%s cannot be admitted: the meeting has %d members, as many as its call carries; it was told and waits", e.Device, e.Limit)
}

// EventRefused: the leader told this device why it is not admitted.
type EventRefused struct{ Reason meetingtypes.NoticeReason }

func (e EventRefused) String() string {
	switch e.Reason {
	case meetingtypes.NoticeFull:
		return "the meeting is full: you wait until someone leaves and the leader admits you"
	case meetingtypes.NoticeWrongPasscode:
		return "the leader refused the request: the passcode is wrong; ask again with the right one"
	case meetingtypes.NoticeRemovedEarlier:
		return "the leader removed this device earlier: you wait until the leader lets you back in"
	}
	return fmt.Sprintf("the leader did not admit this device (reason %d)", e.Reason)
}

// EventKeyChange: someone met before appears with a device not seen
// before (like a changed safety number in a messenger).
type EventKeyChange struct{ Change identity.KeyChange }

func (e EventKeyChange) String() string { return "WARNING: " + e.Change.String() }

// EventRotated: this device rotated its ephemeral key after a periodic
// rekey; later epochs are sealed to the new one.
type EventRotated struct{ Epoch uint64 }

func (e EventRotated) String() string {
	return fmt.Sprintf("rotated this device's ephemeral key after epoch %d", e.Epoch)
}
