package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func (g *globals) control(id []byte) meeting.Control {
	return meeting.ControlOf(g.ephStore(), id)
}

// sessionFlags are the options of a running session.
type sessionFlags struct {
	user, device string
	admit        string
	passcode     string
	rotate       time.Duration
	duration     time.Duration
}

func (f *sessionFlags) add(c *cobra.Command) {
	userDeviceFlags(c, &f.user, &f.device, "this device's ID")
	c.Flags().StringVar(&f.admit, "admit", "all", "leader's admission policy: all (anyone the chain lets request) or manual (parley meeting admit)")
	c.Flags().StringVar(&f.passcode, "passcode", os.Getenv("PARLEY_MEETING_PASSCODE"), "meeting passcode: the leader admits only requests proving it; a joiner proves it (PARLEY_MEETING_PASSCODE)")
	c.Flags().DurationVar(&f.rotate, "rotate", 5*time.Minute, "leader's periodic rekey")
	c.Flags().DurationVar(&f.duration, "duration", 0, "stop after this long (0: until Ctrl-C, the meeting ends or this device is removed)")
}

// runSession runs this device's session in a meeting and prints what happens.
func (g *globals) runSession(cmd *cobra.Command, id []byte, f *sessionFlags) error {
	d, done, err := g.device(f.user, f.device)
	if err != nil {
		return err
	}
	defer done()
	ch, err := g.chainForMeetingDevice(d)
	if err != nil {
		return err
	}
	mb, err := mailbox.New(mailbox.Config{Nodes: g.mailboxNodes(), ChainID: ch.ChainID(), User: f.user, Device: f.device, Key: d.Key})
	if err != nil {
		return err
	}
	defer mb.Close()
	ctl := g.control(id)
	cfg := meeting.Config{
		Chain: ch, Mailbox: mb, Device: d, MeetingID: id, Eph: g.ephStore(), Control: &ctl, Contacts: g.contacts(),
		Passcode: f.passcode, RotateEvery: f.rotate,
		OnEvent: func(e meeting.Event) { cmd.Printf("%s  %s\n", time.Now().Format("15:04:05.000"), e) },
	}
	switch f.admit {
	case "all":
	case "manual":
		cfg.Admit = func(r meetingtypes.JoinRequest) bool { return ctl.Approved(r.UserId, r.DeviceId) }
	default:
		return fmt.Errorf("--admit %q: want all or manual", f.admit)
	}
	s, err := meeting.NewSession(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	cmd.Printf("session of %s/%s in meeting %x (Ctrl-C to stop)\n", f.user, f.device, id)
	err = s.Run(ctx)
	switch {
	case errors.Is(err, meeting.ErrEnded), errors.Is(err, meeting.ErrRemoved), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		cmd.Printf("session over: %v\n", err)
		return nil
	}
	return err
}

func (g *globals) mailboxNodes() []string {
	var out []string
	for _, a := range strings.Split(g.mailbox, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func meetingRunCmd(g *globals) *cobra.Command {
	f := &sessionFlags{}
	c := &cobra.Command{
		Use:   "run MEETING-ID",
		Short: "Run this device's session: lead (admit, rekey, rotate) or receive and check each epoch key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			return g.runSession(cmd, id, f)
		},
	}
	f.add(c)
	return c
}

func meetingJoinCmd(g *globals) *cobra.Command {
	f := &sessionFlags{}
	c := &cobra.Command{
		Use:   "join MEETING-ID | INVITE-LINK",
		Short: "Request to join and run the session: wait for the key, check it against the chain, show the security code",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := g.meetingArg(args[0])
			if err != nil {
				return err
			}
			d, done, err := g.device(f.user, f.device)
			if err != nil {
				return err
			}
			ch, err := g.chainForMeetingDevice(d)
			if err != nil {
				done()
				return err
			}
			if err := g.checkInvite(cmd.Context(), ch); err != nil {
				done()
				return err
			}
			_, err = meeting.Join(cmd.Context(), ch, g.ephStore(), d, id, f.passcode)
			done()
			if err != nil {
				return err
			}
			cmd.Printf("requested to join %s; waiting for the leader\n", args[0])
			return g.runSession(cmd, id, f)
		},
	}
	f.add(c)
	return c
}

// controlCmd makes admit/remove: they leave a note for the running leader session.
func controlCmd(g *globals, use, short string, act func(meeting.Control, string, string) error, done string) *cobra.Command {
	var members []string
	c := &cobra.Command{
		Use:   use + " MEETING-ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			ctl := g.control(id)
			for _, m := range members {
				ref, err := identitytypes.ParseDeviceRef(m)
				if err != nil {
					return fmt.Errorf("--member %q: want user/device: %w", m, err)
				}
				if err := act(ctl, ref.User, ref.Device); err != nil {
					return err
				}
				cmd.Printf("%s %s; the leader's running session acts on it at the next block\n", done, m)
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&members, "member", nil, "member as user/device (repeat, or comma-separated)")
	_ = c.MarkFlagRequired("member")
	return c
}

func meetingAdmitCmd(g *globals) *cobra.Command {
	return controlCmd(g, "admit", "Leader: approve pending requests (for a session run with --admit manual)",
		meeting.Control.Approve, "approved")
}

func meetingRemoveCmd(g *globals) *cobra.Command {
	return controlCmd(g, "remove", "Leader: remove members; the running session commits an epoch without them",
		meeting.Control.RequestRemoval, "removal asked for")
}
