package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
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
			ctx := cmd.Context()
			snap, err := ch.Reader().Latest(ctx)
			if err != nil {
				return err
			}
			m, err := snap.Meeting(ctx, id)
			if err != nil {
				return err
			}
			cmd.Printf("meeting %s  %s  leader %s/%s  epoch %d  (proven at height %d)\n", args[0], strings.TrimPrefix(m.Status.String(), "STATUS_"),
				m.LeaderUser, m.LeaderDevice, m.Epoch, snap.Height())
			if m.Epoch > 0 {
				e, err := snap.Epoch(ctx, id, m.Epoch)
				if err != nil {
					return err
				}
				code, err := keyschedule.SecurityCode(keyschedule.Context{ChainID: ch.ChainID(), MeetingID: id, Epoch: e.Epoch, RosterHash: e.RosterHash}, e.KeyCommitment)
				if err != nil {
					return err
				}
				cmd.Printf("security code (chain): %s\n", code)
				for i, mem := range e.Members {
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
