package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func meetingStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status MEETING-ID",
		Short: "Roster (user and device per member), epoch and security code",
		Long: "Shows the current epoch from the chain and the security code it implies, and the code\n" +
			"this device's running session verified. Compare the code aloud: equal codes mean the\n" +
			"same key and the same roster.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			ctx, q := cmd.Context(), ch.Meeting()
			m, err := q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
			if err != nil {
				return err
			}
			cmd.Printf("meeting %s  %s  leader %s/%s  epoch %d\n", args[0], strings.TrimPrefix(m.Meeting.Status.String(), "STATUS_"),
				m.Meeting.LeaderUser, m.Meeting.LeaderDevice, m.Meeting.Epoch)
			if m.Meeting.Epoch > 0 {
				e, err := q.Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: id})
				if err != nil {
					return err
				}
				code, err := keyschedule.SecurityCode(keyschedule.Context{ChainID: ch.ChainID(), MeetingID: id, Epoch: e.Epoch.Epoch, RosterHash: e.Epoch.RosterHash}, e.Epoch.KeyCommitment)
				if err != nil {
					return err
				}
				cmd.Printf("security code (chain): %s\n", code)
				for i, mem := range e.Epoch.Members {
					cmd.Printf("  [%d] user %-16s device %s\n", i, mem.UserId, mem.DeviceId)
				}
			}
			if st, ok, err := g.control(id).ReadStatus(); err != nil {
				return err
			} else if ok {
				cmd.Printf("this device (%s): epoch %d, verified security code %s (at %s)\n", st.Role, st.Epoch, st.Code, st.Updated.Format("15:04:05"))
			} else {
				cmd.Println("this device runs no session in this meeting")
			}
			return nil
		},
	}
}
