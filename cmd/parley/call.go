package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/verify"
)

func newCallCmd(g *globals) *cobra.Command {
	var user, device, video, audio, record, passcode string
	var create, useRelay, noAudio bool
	var lastN int
	var duration, statusEvery time.Duration
	var reach reachFlags
	c := &cobra.Command{
		Use:   "call [MEETING-ID | INVITE-LINK]",
		Short: "Join (or with --create, create and lead) a meeting and run the call headless",
		Long: "Sends VP8 from an IVF file and Opus from an Ogg file (looped, at real-time pace; synthetic\n" +
			"frames when none is given), end-to-end encrypted with SFrame under the epoch's key, and\n" +
			"prints a status line per peer every 2 s. Ctrl-C or --duration ends it.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, done, err := g.device(user, device)
			if err != nil {
				return err
			}
			defer done()
			var id []byte
			if len(args) == 1 {
				if id, err = g.meetingArg(args[0]); err != nil {
					return err
				}
			}
			ch, err := g.chainForMeetingDevice(d)
			if err != nil {
				return err
			}
			if err := g.checkInvite(cmd.Context(), ch); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			eph := g.ephStore()
			switch {
			case create && len(args) == 0:
				if id, _, err = meeting.Create(ctx, ch, eph, d, meeting.CreateOptions{}); err != nil {
					return err
				}
				cmd.Printf("created meeting %s — others join with: parley call %s\n", hex.EncodeToString(id), hex.EncodeToString(id))
			case !create && len(args) == 1:
				if _, err := meeting.Join(ctx, ch, eph, d, id, passcode); err != nil {
					return err
				}
				cmd.Printf("asked to join %s; waiting for the leader\n", args[0])
			default:
				return errors.New("give a meeting ID to join, or --create and no ID")
			}
			vsrc, asrc, err := callSources(video, audio, useRelay)
			if err != nil {
				return err
			}
			if noAudio {
				asrc = nil
			}
			sinks := call.DiscardSinks()
			if record != "" {
				if err := os.MkdirAll(record, 0o700); err != nil {
					return fmt.Errorf("--record: %w", err)
				}
				sinks = call.FileSinks(record)
			}
			mb, err := mailbox.New(mailbox.Config{Nodes: g.mailboxNodes(), ChainID: ch.ChainID(), User: user, Device: device, Key: d.Key})
			if err != nil {
				return err
			}
			defer mb.Close()
			rc, err := reach.build(mb, id)
			if err != nil {
				return err
			}
			ctl := g.control(id)
			var p *participant.Participant
			p, err = participant.New(participant.Config{
				Session: meeting.Config{Chain: ch, Mailbox: mb, Device: d, MeetingID: id, Eph: eph, Control: &ctl, Contacts: g.contacts(),
					OnEvent: func(e meeting.Event) { cmd.Printf("%s  %s\n", time.Now().Format("15:04:05"), e) }},
				Video: vsrc, Audio: asrc, Sinks: sinks, SettingEngine: call.DefaultSettingEngine(), Reach: rc,
				MediaRelay: mediaRelayOf(mb, id, useRelay), LastN: lastN,
				OnMessage: func(m call.Message) { printCallMessage(cmd, m) },
				OnEpoch: func(meeting.Epoch) {
					if record != "" {
						// Everyone in the call is told, again at every
						// epoch, so that whoever joins later is too.
						announceRecording(cmd, p)
					}
				},
			})
			if err != nil {
				return err
			}
			go printCallStatus(ctx, cmd, p, ch, statusEvery)
			err = p.Run(ctx)
			switch {
			case errors.Is(err, meeting.ErrEnded), errors.Is(err, meeting.ErrRemoved), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				printPeers(cmd, p, ch)
				cmd.Printf("call over: %v\n", err)
				return nil
			case errors.Is(err, meeting.ErrWrongPasscode):
				// The refused request is taken back, so that asking again
				// with the right passcode is not refused by the chain's
				// one open request per device.
				wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if _, werr := meeting.Withdraw(wctx, ch, d, id); werr != nil {
					return fmt.Errorf("%w (and the refused request could not be withdrawn: %v)", err, werr)
				}
				return fmt.Errorf("%w (the request was withdrawn: run again with the right --passcode)", err)
			}
			return err
		},
	}
	userDeviceFlags(c, &user, &device, "this device's ID")
	c.Flags().BoolVar(&create, "create", false, "create the meeting and lead it")
	c.Flags().BoolVar(&useRelay, "media-relay", true, fmt.Sprintf("carry calls of more than %d members through the nodes' media relays (up to %d members); off: a mesh of at most %d", call.DefaultMeshLimit, call.MaxRelayMembers, call.MaxMembers))
	c.Flags().IntVar(&lastN, "last-n", call.DefaultLastN, fmt.Sprintf("on a relay, how many members' videos to receive (1 to %d): those who spoke last", call.MaxLastN))
	c.Flags().StringVar(&video, "video", "", "VP8 IVF file to send (default: synthetic frames, as three simulcast layers with --media-relay)")
	c.Flags().StringVar(&audio, "audio", "", "Opus Ogg file to send (default: synthetic frames)")
	c.Flags().BoolVar(&noAudio, "no-audio", false, "send no audio (a listener; a bot that only shows video)")
	c.Flags().StringVar(&record, "record", "", "directory to write each peer's decrypted media to (IVF/Ogg); every member is told while it lasts")
	c.Flags().DurationVar(&duration, "duration", 0, "end the call after this long")
	c.Flags().DurationVar(&statusEvery, "status-every", 2*time.Second, "how often to print the status lines")
	reach.add(c)
	c.Flags().StringVar(&passcode, "passcode", os.Getenv("PARLEY_MEETING_PASSCODE"), "the meeting's passcode, proven to the leader (PARLEY_MEETING_PASSCODE)")
	return c
}

// callSources opens the media files, or makes synthetic sources. A
// synthetic camera is simulcast when the call may use a media relay
// (which then forwards each member the layer its bandwidth allows; the
// mesh gets the full layer); a file is one stream.
func callSources(video, audio string, relay bool) (call.Source, call.Source, error) {
	var v, a call.Source
	var err error
	switch {
	case video != "":
		v, err = call.NewIVFSource(video)
	case relay:
		v, err = call.NewSimulcastSyntheticSource(500_000, 30)
	default:
		v, err = call.NewAdaptiveSyntheticSource(500_000, 30)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("video: %w", err)
	}
	if audio != "" {
		a, err = call.NewOggSource(audio)
	} else {
		a, err = call.NewSyntheticSource(call.Audio, 48_000, 50)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audio: %w", err)
	}
	return v, a, nil
}

func printCallStatus(ctx context.Context, cmd *cobra.Command, p *participant.Participant, ch *verify.Client, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			printPeers(cmd, p, ch)
		}
	}
}

func printPeers(cmd *cobra.Command, p *participant.Participant, ch *verify.Client) {
	code := p.Session().Code()
	cmd.Printf("epoch %d  security code %s\n", p.Engine().Epoch(), code)
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
	defer cancel()
	switch st, err := ch.Status(ctx); {
	case err != nil:
		cmd.Printf("  chain: no node answers (%v); the call stays on epoch %d\n", err, p.Engine().Epoch())
	case st.Halted:
		cmd.Printf("  chain: HALTED, no new block since %s (height %d); the call stays on epoch %d until blocks resume\n",
			st.BlockTime.Format("15:04:05"), st.Height, p.Engine().Epoch())
	}
	for _, s := range p.Engine().Stats() {
		cmd.Printf("  %-12s %-10s %-10s epoch %-3d out %6d  in %6d  decrypted %6d  rejected %4d  rtt %s  %s  est %d kbit/s  restarts %d  reconnects %d\n",
			s.UserID, s.DeviceID, s.State, s.RecvEpoch, s.FramesSent, s.FramesReceived, s.FramesDecrypted, s.Rejected.Total(), s.RTT.Round(time.Millisecond),
			s.Path, s.TargetBitrate/1000, s.Restarts, s.Reconnects)
	}
	if rs := p.Engine().Relay(); rs.Node != "" {
		sg := rs.Signatures
		cmd.Printf("  relay %s %s  out %d (layers q %d h %d f %d)  signatures verified %d held %d cut %d\n",
			rs.Node, rs.State, rs.FramesSent, rs.Layers[call.LayerQ].FramesSent, rs.Layers[call.LayerH].FramesSent, rs.Layers[call.LayerF].FramesSent,
			sg.Verified, sg.Held, sg.CutForged+sg.CutUnsigned+sg.CutEquivocated)
	}
}

// mediaRelayOf returns the nodes' media relays for the meeting's call, or
// nil when the person chose the mesh alone.
func mediaRelayOf(mb *mailbox.Client, id []byte, use bool) call.MediaRelayDialer {
	if !use {
		return nil
	}
	return mb.MediaRelay(id)
}
