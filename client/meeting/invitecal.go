package meeting

import (
	"fmt"
	"time"

	"github.com/parleynet/parley/client/ics"
)

// InviteCalendar is the .ics file of a signed invite: the event at the
// meeting's schedule (from now to its end when it is not scheduled, with
// end the meeting's expires_at), the link in the description and URL.
// The passcode is never in it, only that one is asked for.
func InviteCalendar(s *SignedInvite, end, now time.Time) []byte {
	link := s.Invite().Link()
	start := now
	if s.StartsAt != 0 {
		start = s.Start()
		end = start.Add(time.Duration(s.DurationSeconds) * time.Second)
	}
	desc := "Join the end-to-end encrypted Parley meeting: open your `parley ui`, then this link:\n" + link +
		fmt.Sprintf("\nMeeting %x on chain %s, hosted by %s/%s.", s.MeetingID, s.ChainID, s.LeaderUser, s.LeaderDevice)
	if s.PasscodeRequired {
		desc += "\nA passcode is required: ask the host for it."
	}
	return ics.Event{
		UID: fmt.Sprintf("%x@%s.parley", s.MeetingID, s.ChainID), Stamp: now, Start: start, End: end,
		Summary: "Parley meeting", Description: desc, URL: link,
	}.Marshal()
}
