package meeting

import (
	"fmt"
	"time"

	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// EventLobby: the meeting is scheduled and has not started (by the block
// time of a proven block): this device's request waits in the lobby, and
// the leader admits no one, until Start. Told once per session.
type EventLobby struct{ Start time.Time }

func (e EventLobby) String() string {
	return fmt.Sprintf("the meeting starts at %s: waiting in the lobby until then", e.Start.UTC().Format(time.RFC3339))
}

// inLobby says whether meeting m has not started as of snap's block:
// the chain refuses to admit anyone before the start, so the leader
// waits instead of sending commits that fail. Block time, not this
// machine's clock, is what the chain compares, and a commit lands in a
// later block than snap, so this never waits past the start. snap must
// be proven: a tentative snapshot has no header time yet.
func inLobby(snap *verify.Snapshot, m meetingtypes.Meeting) bool {
	return !m.Started(snap.Time().Unix())
}

// tellLobby records, from the step's proven snapshot, whether the meeting
// is still a lobby (the leader's tentative step reads it: lobbyNow), and
// reports EventLobby once while it is.
func (s *Session) tellLobby(snap *verify.Snapshot, m meetingtypes.Meeting) {
	lobby := inLobby(snap, m)
	s.mu.Lock()
	s.lobbyNow = lobby
	told := s.lobbyTold || !lobby
	if lobby {
		s.lobbyTold = true
	}
	s.mu.Unlock()
	if !told {
		s.cfg.OnEvent(EventLobby{Start: time.Unix(m.StartsAt, 0)})
	}
}
