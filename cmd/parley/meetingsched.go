package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// parseStart reads --start: an RFC 3339 time (2026-12-05T18:00:00Z) or a
// time relative to now (+10m); "" means unscheduled.
func parseStart(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("--start %q: want a positive duration after +, like +10m or +1h30m", s)
		}
		return now.Add(d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start %q: want RFC 3339 (2026-12-05T18:00:00Z) or +DURATION (+10m)", s)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("--start %s is not in the future", t.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// scheduleLine describes a meeting's schedule for `meeting show`.
func scheduleLine(m meetingtypes.Meeting, now time.Time) string {
	end := time.Unix(m.ExpiresAt, 0).UTC()
	if !m.Scheduled() {
		return fmt.Sprintf("unscheduled (started at creation), ends %s", end.Format(time.RFC3339))
	}
	start := time.Unix(m.StartsAt, 0).UTC()
	line := fmt.Sprintf("scheduled %s to %s (%s)", start.Format(time.RFC3339), end.Format(time.RFC3339), end.Sub(start))
	if now.Before(start) {
		line += fmt.Sprintf("; starts in %s: requests wait in the lobby until then", start.Sub(now).Round(time.Second))
	}
	return line
}

func meetingInviteCmd(g *globals) *cobra.Command {
	var user, device, icsFile string
	c := &cobra.Command{
		Use:   "invite MEETING-ID",
		Short: "Leader: print a signed invite link (and write an .ics calendar file with --ics)",
		Long: "Signs an invite with this (leader) device's key: the chain, the meeting, the schedule, whether a\n" +
			"passcode is asked (never the passcode) and this client's trust anchor. The link opens the\n" +
			"receiver's own `parley ui` (http://127.0.0.1:8765/join#…); the receiver's client checks the\n" +
			"signature against your device key on chain and refuses the invite if its anchor is not its own.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			d, done, err := g.device(user, device)
			if err != nil {
				return err
			}
			defer done()
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			snap, err := ch.Reader().Latest(cmd.Context())
			if err != nil {
				return err
			}
			m, err := snap.Meeting(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("meeting %s: %w", args[0], err)
			}
			if m.LeaderUser != user || m.LeaderDevice != device {
				return fmt.Errorf("meeting %s is led by %s/%s, not %s/%s: only the leader's device signs invites", args[0], m.LeaderUser, m.LeaderDevice, user, device)
			}
			inv := meeting.SignInvite(d, meeting.InviteFor(ch.ChainID(), m, ch.Anchor()))
			cmd.Println(inv.Invite().Link())
			cmd.PrintErrf("%s\n", scheduleLine(m, time.Now()))
			if icsFile != "" {
				cal := meeting.InviteCalendar(inv, time.Unix(m.ExpiresAt, 0), time.Now())
				if err := os.WriteFile(icsFile, cal, 0o644); err != nil {
					return err
				}
				cmd.PrintErrf("calendar file written to %s\n", icsFile)
			}
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (leader) device's ID")
	c.Flags().StringVar(&icsFile, "ics", "", "also write the invite as an RFC 5545 calendar file")
	return c
}
