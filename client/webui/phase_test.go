package webui

import (
	"io"
	"testing"
)

// TestPhaseMachine walks every pair of phases: the moves a person makes
// are allowed, and every other one (a call straight from sign-in, a lobby
// while a call runs, back to waiting after it ended) is refused and leaves
// the phase as it was.
func TestPhaseMachine(t *testing.T) {
	allowed := map[[2]phase]bool{
		{phaseSignIn, phaseLobby}:  true,
		{phaseLobby, phaseSignIn}:  true,
		{phaseLobby, phaseWaiting}: true,
		{phaseLobby, phaseCall}:    true,
		{phaseWaiting, phaseCall}:  true,
		{phaseWaiting, phaseOver}:  true,
		{phaseCall, phaseOver}:     true,
		{phaseOver, phaseLobby}:    true,
		{phaseOver, phaseSignIn}:   true,
	}
	all := []phase{phaseSignIn, phaseLobby, phaseWaiting, phaseCall, phaseOver}
	for _, from := range all {
		for _, to := range all {
			c := &controller{cfg: Config{Log: io.Discard}, phase: from}
			err := c.moveLocked(to, "why")
			want := from == to || allowed[[2]phase{from, to}]
			if (err == nil) != want {
				t.Errorf("%s -> %s: err %v, want allowed=%v", from, to, err, want)
			}
			if err != nil && c.phase != from {
				t.Errorf("%s -> %s refused, but the phase is now %s", from, to, c.phase)
			}
			if err == nil && (c.phase != to || c.reason != "why") {
				t.Errorf("%s -> %s: phase %s reason %q", from, to, c.phase, c.reason)
			}
		}
	}
	if got := phase(9).String(); got != "phase(9)" {
		t.Errorf("unknown phase prints %q", got)
	}
}
