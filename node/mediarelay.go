package node

import (
	"context"
	"errors"
	"fmt"
	"net"

	"cosmossdk.io/log/v2"
	"github.com/cometbft/cometbft/p2p"
	servercmtlog "github.com/cosmos/cosmos-sdk/server/log"
	"github.com/pion/webrtc/v4"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"golang.org/x/sync/errgroup"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/sfu"
)

// Settings of the node's media relay (node/sfu), as start flags or in
// app.toml's [media-relay] section; the flag wins.
const (
	FlagMediaRelayEnable      = "media-relay.enable"
	FlagMediaRelayPublicIP    = "media-relay.public-ip"
	FlagMediaRelayMaxSessions = "media-relay.max-sessions"
)

// addMediaRelayFlags adds the media relay's start flags.
func addMediaRelayFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool(FlagMediaRelayEnable, false, "forward members' end-to-end encrypted media for meetings larger than a mesh (off by default: it spends the node's bandwidth and CPU)")
	f.String(FlagMediaRelayPublicIP, "", "the IP address members reach the media relay at, when the node is behind a 1:1 NAT (default: the node's own addresses)")
	f.Int(FlagMediaRelayMaxSessions, 500, "members' connections the media relay carries at most")
}

// startMediaRelay starts the node's media relay when it is enabled and
// lets the mailbox admit members of current rosters to it; it stops when
// ctx ends. A node without it answers RelayConnect MEDIA_RELAY_DISABLED.
// It returns the reactor that links the relay with the relays of other
// nodes (the cascade) for CometBFT's switch, nil when the relay is off.
func startMediaRelay(ctx context.Context, g *errgroup.Group, v *viper.Viper, mb *mailbox.Mailbox, a *app.App, logger log.Logger) (p2p.Reactor, error) {
	if !v.GetBool(FlagMediaRelayEnable) {
		return nil, nil
	}
	rosters := AppRosters{App: a}
	se := sfu.DefaultSettingEngine()
	if ip := v.GetString(FlagMediaRelayPublicIP); ip != "" {
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("--%s %q is not an IP address", FlagMediaRelayPublicIP, ip)
		}
		se.SetNAT1To1IPs([]string{ip}, webrtc.ICECandidateTypeHost)
	}
	cascade := newCascadeReactor()
	cascade.SetLogger(servercmtlog.CometLoggerWrapper{Logger: logger.With("part", "cascade")})
	relay, err := sfu.New(sfu.Config{
		SettingEngine: se,
		MaxSessions:   v.GetInt(FlagMediaRelayMaxSessions),
		StillMember:   rosters.InCurrentRoster,
		Peers:         cascade,
	})
	if err != nil {
		return nil, err
	}
	cascade.setHandler(relay)
	if err := mb.EnableMediaRelay(relayGate{relay}, mailbox.MediaRelayConfig{Rosters: rosters}); err != nil {
		_ = relay.Close()
		return nil, err
	}
	logger.Info("media relay serving", "max_sessions", v.GetInt(FlagMediaRelayMaxSessions))
	g.Go(func() error { return relay.Run(ctx) })
	return cascade, nil
}

// relayGate adapts the relay to the mailbox's MediaRelay, naming its
// refusals as the mailbox's API does.
type relayGate struct{ r *sfu.Relay }

func (g relayGate) Join(ctx context.Context, meetingID []byte, user, device, offer string) (string, error) {
	answer, err := g.r.Join(ctx, sfu.JoinRequest{MeetingID: meetingID, User: user, Device: device, OfferSDP: offer})
	switch {
	case errors.Is(err, sfu.ErrBadOffer):
		return "", fmt.Errorf("%w: %w", mailboxv1.ErrBadOffer, err)
	case errors.Is(err, sfu.ErrFull), errors.Is(err, sfu.ErrMeetingFull):
		return "", fmt.Errorf("%w: %w", mailboxv1.ErrRelayFull, err)
	}
	return answer, err
}
