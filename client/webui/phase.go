package webui

import "fmt"

// phase is where the person at the page stands. The controller changes it
// only through moveLocked, so a phase the machine has no arrow to (a call
// after a sign-out, a lobby while a call runs) cannot happen by a slip in
// one handler: it is refused and logged.
type phase uint8

const (
	phaseSignIn  phase = iota // choose and unlock a device key
	phaseLobby                // create or join a meeting
	phaseWaiting              // asked to join; the leader has not admitted yet
	phaseCall                 // in the meeting
	phaseOver                 // ended, removed or left; the reason says which
)

// String is the phase's name in the page protocol (stateMsg.Phase).
func (p phase) String() string {
	switch p {
	case phaseSignIn:
		return "signin"
	case phaseLobby:
		return "lobby"
	case phaseWaiting:
		return "waiting"
	case phaseCall:
		return "call"
	case phaseOver:
		return "over"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// phaseMoves are the machine's arrows. A meeting starts from the lobby
// (the leader straight into the call, a joiner waiting for admission) and
// ends in over, whatever stopped it; only over and the lobby lead back.
var phaseMoves = map[phase][]phase{
	phaseSignIn:  {phaseLobby},
	phaseLobby:   {phaseSignIn, phaseWaiting, phaseCall},
	phaseWaiting: {phaseCall, phaseOver},
	phaseCall:    {phaseOver},
	phaseOver:    {phaseLobby, phaseSignIn},
}

// canMove reports whether the machine has an arrow from p to to (staying
// is always allowed).
func (p phase) canMove(to phase) bool {
	if p == to {
		return true
	}
	for _, q := range phaseMoves[p] {
		if q == to {
			return true
		}
	}
	return false
}

// moveLocked moves the page to phase to with reason (shown in over), or
// refuses a move the machine does not have. c.mu must be held.
func (c *controller) moveLocked(to phase, reason string) error {
	if !c.phase.canMove(to) {
		return fmt.Errorf("webui: no move from %s to %s", c.phase, to)
	}
	c.phase, c.reason = to, reason
	return nil
}

// mustMoveLocked is moveLocked where the caller's own checks leave only
// arrows the machine has: a refusal is a bug in the controller, logged and
// not taken. c.mu must be held.
func (c *controller) mustMoveLocked(to phase, reason string) {
	if err := c.moveLocked(to, reason); err != nil {
		c.logf("%v (bug: the move is not taken)", err)
	}
}
