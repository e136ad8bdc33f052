package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/meeting"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func newMeetingCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "meeting", Short: "Meetings on chain: create, request, admit, show, transfer, end"}
	cmd.AddCommand(meetingCreateCmd(g), meetingRequestCmd(g), meetingCommitCmd(g), meetingShowCmd(g), meetingEndCmd(g),
		meetingRunCmd(g), meetingJoinCmd(g), meetingAdmitCmd(g), meetingRemoveCmd(g), meetingLeaveCmd(g), meetingStatusCmd(g),
		meetingTransferCmd(g), meetingInviteCmd(g))
	return cmd
}

func (g *globals) ephStore() meeting.EphStore {
	return meeting.EphStore{Dir: filepath.Join(g.home, "meetings")}
}

// device loads this device's key for a meeting command.
func (g *globals) device(user, device string) (meeting.Device, func(), error) {
	key, err := g.loadKey(user, device)
	if err != nil {
		return meeting.Device{}, nil, err
	}
	return meeting.Device{UserID: user, DeviceID: device, Key: key}, func() { key.Close() }, nil
}

func meetingCreateCmd(g *globals) *cobra.Command {
	var user, device, allow, start string
	var max uint32
	var passcode bool
	var duration time.Duration
	c := &cobra.Command{
		Use:   "create",
		Short: "Open a meeting led by this device; prints the meeting ID",
		RunE: func(cmd *cobra.Command, _ []string) error {
			startsAt, err := parseStart(start, time.Now())
			if err != nil {
				return err
			}
			d, done, err := g.device(user, device)
			if err != nil {
				return err
			}
			defer done()
			ch, err := g.chainForMeetingDevice(d)
			if err != nil {
				return err
			}
			var list []string
			if allow != "" {
				list = strings.Split(allow, ",")
			}
			id, _, err := meeting.Create(cmd.Context(), ch, g.ephStore(), d, meeting.CreateOptions{
				MaxParticipants: max, Allowlist: list, PasscodeRequired: passcode, Duration: duration, StartsAt: startsAt,
			})
			if err != nil {
				return err
			}
			cmd.PrintErrf("meeting created, led by %s/%s\n", user, device)
			if !startsAt.IsZero() {
				cmd.PrintErrf("scheduled %s for %s; until then it is a lobby (`parley meeting invite` makes the link)\n",
					startsAt.UTC().Format(time.RFC3339), duration)
			}
			cmd.Println(hex.EncodeToString(id))
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (leader) device's ID")
	c.Flags().StringVar(&allow, "allow", "", "comma-separated user IDs that may request to join (default: anyone)")
	c.Flags().Uint32Var(&max, "max", 0, "maximum participants (default: the chain's maximum)")
	c.Flags().BoolVar(&passcode, "passcode", false, "require a passcode proof (checked by the leader, never on chain)")
	c.Flags().DurationVar(&duration, "duration", 2*time.Hour, "meeting lifetime (from --start when scheduled)")
	c.Flags().StringVar(&start, "start", "", "schedule the start: RFC 3339 (2026-12-05T18:00:00Z) or relative (+10m); default now")
	return c
}

// deviceActionCmd makes a command that signs one meeting message with this
// device's key and sends it: request, leave, end.
func deviceActionCmd(g *globals, use, short, deviceHelp string,
	act func(ctx context.Context, ch meeting.Chain, eph meeting.EphStore, d meeting.Device, id []byte) (*sdk.TxResponse, error),
	done func(meetingID, user, device string) string,
) *cobra.Command {
	var user, device string
	c := &cobra.Command{
		Use:   use + " MEETING-ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			d, closeKey, err := g.device(user, device)
			if err != nil {
				return err
			}
			defer closeKey()
			ch, err := g.chainForMeetingDevice(d)
			if err != nil {
				return err
			}
			if _, err := act(cmd.Context(), ch, g.ephStore(), d, id); err != nil {
				return err
			}
			cmd.Println(done(args[0], user, device))
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, deviceHelp)
	return c
}

func meetingRequestCmd(g *globals) *cobra.Command {
	return deviceActionCmd(g, "request", "Ask to join: publish this device's fresh ephemeral key for the meeting", "this device's ID",
		func(ctx context.Context, ch meeting.Chain, eph meeting.EphStore, d meeting.Device, id []byte) (*sdk.TxResponse, error) {
			return meeting.Request(ctx, ch, eph, d, id, nil)
		},
		func(m, u, d string) string {
			return fmt.Sprintf("requested to join %s as %s/%s; waiting for the leader to admit", m, u, d)
		})
}

func meetingEndCmd(g *globals) *cobra.Command {
	return deviceActionCmd(g, "end", "Leader: end the meeting", "this (leader) device's ID", meeting.End,
		func(m, _, _ string) string { return fmt.Sprintf("meeting %s ended", m) })
}

func meetingLeaveCmd(g *globals) *cobra.Command {
	return deviceActionCmd(g, "leave", "Leave a meeting; the leader rekeys without this device", "this device's ID", meeting.Leave,
		func(m, _, _ string) string { return fmt.Sprintf("left meeting %s", m) })
}

func meetingCommitCmd(g *globals) *cobra.Command {
	var user, device, commitment, reason string
	var members []string
	c := &cobra.Command{
		Use:   "commit MEETING-ID",
		Short: "Leader, by hand (testing): commit the next epoch with given members and key commitment",
		Long: "Commits the next epoch without a key exchange. Members are user/device pairs (the leader\n" +
			"must be one); the commitment is 64 hex digits. A running session (`parley meeting run`)\n" +
			"does this, with a real key, by itself.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := meeting.ParseMeetingID(args[0])
			if err != nil {
				return err
			}
			commit, err := hex.DecodeString(commitment)
			if err != nil || len(commit) != meetingtypes.KeyCommitmentSize {
				return fmt.Errorf("--commitment: want %d hex digits", 2*meetingtypes.KeyCommitmentSize)
			}
			r, ok := meetingtypes.Reason_value["REASON_"+strings.ToUpper(reason)]
			if !ok {
				return fmt.Errorf("--reason %q: want join, leave, remove, revoke, rotate or leader", reason)
			}
			var refs []meetingtypes.MemberRef
			for _, m := range members {
				ref, err := identitytypes.ParseDeviceRef(m)
				if err != nil {
					return fmt.Errorf("--member %q: want user/device: %w", m, err)
				}
				refs = append(refs, meetingtypes.MemberRef{UserId: ref.User, DeviceId: ref.Device})
			}
			d, done, err := g.device(user, device)
			if err != nil {
				return err
			}
			defer done()
			ch, err := g.chainForMeetingDevice(d)
			if err != nil {
				return err
			}
			// The chain refuses a commit whose roster hash is not its own;
			// CommitNext computes it from the members' requests as the chain does.
			epoch, _, err := meeting.CommitNext(cmd.Context(), ch, d, id, refs, commit, meetingtypes.Reason(r))
			if err != nil {
				return err
			}
			cmd.Printf("committed epoch %d of %s with %d members\n", epoch, args[0], len(refs))
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (leader) device's ID")
	c.Flags().StringSliceVar(&members, "member", nil, "member as user/device (repeat, or comma-separated)")
	c.Flags().StringVar(&commitment, "commitment", "", "key commitment, 64 hex digits")
	c.Flags().StringVar(&reason, "reason", "join", "join|leave|remove|revoke|rotate|leader")
	_ = c.MarkFlagRequired("member")
	_ = c.MarkFlagRequired("commitment")
	return c
}

func meetingShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show MEETING-ID",
		Short: "Show a meeting: leader, epoch, roster and requests",
		Args:  cobra.ExactArgs(1),
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
			snap, err := ch.Reader().Latest(ctx)
			if err != nil {
				return err
			}
			m, err := snap.Meeting(ctx, id)
			if err != nil {
				return fmt.Errorf("meeting %s: %w", args[0], err)
			}
			cmd.Printf("meeting %x  %s  leader %s/%s  epoch %d  expires %s\n", m.MeetingId,
				strings.TrimPrefix(m.Status.String(), "STATUS_"), m.LeaderUser, m.LeaderDevice, m.Epoch,
				time.Unix(m.ExpiresAt, 0).UTC().Format(time.RFC3339))
			cmd.Printf("schedule: %s\n", scheduleLine(m, time.Now()))
			if len(m.Policy.Allowlist) > 0 {
				cmd.Printf("allowlist: %s\n", strings.Join(m.Policy.Allowlist, ", "))
			}
			if m.RekeyDueHeight != 0 {
				cmd.Printf("REKEY DUE since height %d\n", m.RekeyDueHeight)
			}
			if m.Epoch > 0 {
				e, err := snap.Epoch(ctx, id, m.Epoch)
				if err != nil {
					return err
				}
				cmd.Printf("epoch %d (%s, height %d) roster %x commitment %x\n", e.Epoch,
					strings.ToLower(strings.TrimPrefix(e.Reason.String(), "REASON_")), e.Height, e.RosterHash, e.KeyCommitment)
				for i, mem := range e.Members {
					cmd.Printf("  [%d] %s/%s  key %x\n", i, mem.UserId, mem.DeviceId, mem.EphPkHash[:8])
				}
			}
			reqs, err := q.JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: id})
			if err != nil {
				return err
			}
			cmd.Println("requests (as the node lists them; not proven):")
			for _, r := range reqs.Requests {
				cmd.Printf("  %s/%s  %s  height %d\n", r.UserId, r.DeviceId,
					strings.ToLower(strings.TrimPrefix(r.Status.String(), "REQUEST_STATUS_")), r.Height)
			}
			return nil
		},
	}
}

func meetingTransferCmd(g *globals) *cobra.Command {
	var to string
	c := deviceActionCmd(g, "transfer", "Leader: hand the leadership to a member of the current epoch (--to user/device)", "this (leader) device's ID",
		func(ctx context.Context, ch meeting.Chain, _ meeting.EphStore, d meeting.Device, id []byte) (*sdk.TxResponse, error) {
			ref, err := identitytypes.ParseDeviceRef(to)
			if err != nil {
				return nil, fmt.Errorf("--to %q: want user/device: %w", to, err)
			}
			return meeting.Transfer(ctx, ch, d, id, ref)
		},
		func(m, _, _ string) string { return fmt.Sprintf("%s now leads meeting %s", to, m) })
	c.Long = "Signs and sends the transfer with this (leader) device's key. The new leader's running session\n" +
		"takes over at its next block (admitting, removing, rekeying); this device stays a member."
	c.Flags().StringVar(&to, "to", "", "the new leader, as user/device (a member of the current epoch)")
	_ = c.MarkFlagRequired("to")
	return c
}
