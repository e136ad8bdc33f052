package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	"cosmossdk.io/log/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/turn"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Settings of the node's STUN and TURN relay (node/turn), as start flags
// or in app.toml's [turn] section (enable = true, udp = "...", ...); the
// flag wins. PROTOCOL.md section 11 says which defaults and why.
const (
	FlagTURNEnable               = "turn.enable"
	FlagTURNUDP                  = "turn.udp"
	FlagTURNTCP                  = "turn.tcp"
	FlagTURNTLS                  = "turn.tls"
	FlagTURNTLSCert              = "turn.tls-cert"
	FlagTURNTLSKey               = "turn.tls-key"
	FlagTURNPublicIP             = "turn.public-ip"
	FlagTURNURLHost              = "turn.url-host"
	FlagTURNRelayPorts           = "turn.relay-ports"
	FlagTURNCredentialTTL        = "turn.credential-ttl"
	FlagTURNSecretFile           = "turn.secret-file"
	FlagTURNMaxAllocations       = "turn.max-allocations"
	FlagTURNMaxDeviceAllocations = "turn.max-device-allocations"
	FlagTURNAllocationBandwidth  = "turn.allocation-bandwidth"
	FlagTURNDeviceBandwidth      = "turn.device-bandwidth"
	FlagTURNRequireMember        = "turn.require-member"
	FlagTURNAllowPrivatePeers    = "turn.allow-private-peers"
)

// DefaultTURNSecretFile is where the credential secret is kept, under
// the node's home, when --turn.secret-file does not say.
const DefaultTURNSecretFile = "config/turn_secret"

// addTURNFlags adds the relay's start flags.
func addTURNFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool(FlagTURNEnable, false, "run a STUN and TURN server and give members' devices credentials for it through the mailbox (off by default: it needs a public address and spends the node's bandwidth)")
	f.String(FlagTURNUDP, fmt.Sprintf("0.0.0.0:%d", turn.DefaultPort), "comma-separated host:port addresses for STUN and TURN over UDP")
	f.String(FlagTURNTCP, fmt.Sprintf("0.0.0.0:%d", turn.DefaultPort), "comma-separated host:port addresses for TURN over TCP (for networks that block UDP); empty for none")
	f.String(FlagTURNTLS, "", "comma-separated host:port addresses for TURN over TLS (needs --turn.tls-cert and --turn.tls-key)")
	f.String(FlagTURNTLSCert, "", "PEM certificate for TURN over TLS")
	f.String(FlagTURNTLSKey, "", "PEM key for TURN over TLS")
	f.String(FlagTURNPublicIP, "", "the IP address clients and peers reach this node at (default: the UDP address, when it is not 0.0.0.0)")
	f.String(FlagTURNURLHost, "", "host name to put in the TURN URLs instead of the public IP (for TLS certificates)")
	f.String(FlagTURNRelayPorts, fmt.Sprintf("%d-%d", turn.DefaultRelayPortMin, turn.DefaultRelayPortMax), "UDP port range of relay allocations")
	f.Duration(FlagTURNCredentialTTL, turn.DefaultCredentialTTL, "how long a TURN credential may open allocations")
	f.String(FlagTURNSecretFile, "", "file holding the credential secret (default <home>/"+DefaultTURNSecretFile+", generated when missing)")
	f.Int(FlagTURNMaxAllocations, turn.DefaultMaxAllocations, "relay allocations this node holds at most")
	f.Int(FlagTURNMaxDeviceAllocations, turn.DefaultMaxDeviceAllocations, "relay allocations one device holds at most")
	f.Int(FlagTURNAllocationBandwidth, turn.DefaultAllocationBandwidth, "bit/s one allocation may relay, both directions")
	f.Int(FlagTURNDeviceBandwidth, turn.DefaultDeviceBandwidth, "bit/s all of one device's allocations may relay, both directions")
	f.Bool(FlagTURNRequireMember, false, "give credentials only to members of a current roster of an open meeting named in the request")
	f.Bool(FlagTURNAllowPrivatePeers, false, "let the relay send to private (RFC 1918) addresses: for a relay serving a LAN")
}

// turnConfig reads the relay's settings; ok is false when it is off.
func turnConfig(v *viper.Viper, home string) (cfg turn.Config, ok bool, err error) {
	if !v.GetBool(FlagTURNEnable) {
		return turn.Config{}, false, nil
	}
	list := func(key string) []string {
		var out []string
		for _, a := range strings.Split(v.GetString(key), ",") {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	cfg = turn.Config{
		UDP: list(FlagTURNUDP), TCP: list(FlagTURNTCP), TLS: list(FlagTURNTLS),
		URLHost:              v.GetString(FlagTURNURLHost),
		CredentialTTL:        v.GetDuration(FlagTURNCredentialTTL),
		MaxAllocations:       v.GetInt(FlagTURNMaxAllocations),
		MaxDeviceAllocations: v.GetInt(FlagTURNMaxDeviceAllocations),
		AllocationBandwidth:  v.GetInt(FlagTURNAllocationBandwidth),
		DeviceBandwidth:      v.GetInt(FlagTURNDeviceBandwidth),
		AllowPrivatePeers:    v.GetBool(FlagTURNAllowPrivatePeers),
	}
	if ip := v.GetString(FlagTURNPublicIP); ip != "" {
		if cfg.PublicIP = net.ParseIP(ip); cfg.PublicIP == nil {
			return cfg, true, fmt.Errorf("--%s %q is not an IP address", FlagTURNPublicIP, ip)
		}
	} else if len(cfg.UDP) > 0 {
		if host, _, err := net.SplitHostPort(cfg.UDP[0]); err == nil {
			if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
				cfg.PublicIP = ip
			}
		}
	}
	if cfg.PublicIP == nil {
		return cfg, true, fmt.Errorf("--%s is required when TURN listens on 0.0.0.0: the node cannot tell which address the internet reaches it at", FlagTURNPublicIP)
	}
	if r := v.GetString(FlagTURNRelayPorts); r != "" {
		lo, hi, ok := strings.Cut(r, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if !ok || err1 != nil || err2 != nil {
			return cfg, true, fmt.Errorf("--%s %q: want LOW-HIGH", FlagTURNRelayPorts, r)
		}
		cfg.RelayPortMin, cfg.RelayPortMax = uint16(a), uint16(b)
	}
	if len(cfg.TLS) > 0 {
		cert, err := tls.LoadX509KeyPair(v.GetString(FlagTURNTLSCert), v.GetString(FlagTURNTLSKey))
		if err != nil {
			return cfg, true, fmt.Errorf("TURN over TLS: %w", err)
		}
		cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	secretFile := v.GetString(FlagTURNSecretFile)
	if secretFile == "" {
		secretFile = filepath.Join(home, DefaultTURNSecretFile)
	}
	if cfg.Secret, err = turn.LoadOrCreateSecret(secretFile); err != nil {
		return cfg, true, err
	}
	return cfg, true, nil
}

// startTURN starts the node's STUN and TURN server when it is enabled and
// lets the mailbox give out credentials for it; the server stops when ctx
// ends. A node without it answers credential requests RELAY_DISABLED.
func startTURN(ctx context.Context, g *errgroup.Group, v *viper.Viper, home string, mb *mailbox.Mailbox, a *app.App, logger log.Logger) error {
	cfg, ok, err := turnConfig(v, home)
	if err != nil || !ok {
		return err
	}
	srv, err := turn.New(cfg)
	if err != nil {
		return err
	}
	rc := mailbox.RelayConfig{RequireMember: v.GetBool(FlagTURNRequireMember)}
	if rc.RequireMember {
		rc.Rosters = AppRosters{App: a}
	}
	if err := mb.EnableRelay(turnIssuer{srv}, rc); err != nil {
		_ = srv.Close()
		return err
	}
	logger.Info("TURN relay serving", "urls", strings.Join(srv.URLs(), " "), "require_member", rc.RequireMember)
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	return nil
}

// turnIssuer adapts the TURN server to the mailbox's CredentialIssuer.
type turnIssuer struct{ s *turn.Server }

func (t turnIssuer) IssueTURN(subject string) (mailbox.TURNCredential, error) {
	c := t.s.Issue(subject)
	return mailbox.TURNCredential{URLs: t.s.URLs(), Username: c.Username, Password: c.Password, Expires: c.Expires}, nil
}

// AppRosters reads rosters for the mailbox from the app's latest committed
// state, as AppDeviceKeys reads device keys.
type AppRosters struct {
	App *app.App
}

var _ mailbox.Rosters = AppRosters{}

// InCurrentRoster implements mailbox.Rosters: the meeting is open, its
// current epoch lists the device, and the device's request is admitted.
func (r AppRosters) InCurrentRoster(ctx context.Context, meetingID []byte, user, device string) (in bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			in, err = false, fmt.Errorf("reading meeting %x: %v", meetingID, p)
		}
	}()
	sdkCtx, err := r.App.CreateQueryContextWithCheckHeader(0, false, false)
	if err != nil {
		return false, err
	}
	qctx := sdkCtx.WithContext(ctx)
	k := r.App.MeetingKeeper
	m, err := k.Meetings.Get(qctx, meetingID)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		return false, nil
	case err != nil:
		return false, errors.New(err.Error())
	case m.Status != meetingtypes.Status_STATUS_OPEN || m.Epoch == 0:
		return false, nil
	}
	e, err := k.Epochs.Get(qctx, collections.Join(meetingID, m.Epoch))
	if err != nil {
		return false, errors.New(err.Error())
	}
	if meetingtypes.SenderIndex(e.Members, user, device) < 0 {
		return false, nil
	}
	req, err := k.Requests.Get(qctx, meetingtypes.JoinRequestKey(meetingID, identitytypes.DeviceRef{User: user, Device: device}))
	if err != nil {
		return false, nil //nolint:nilerr // no request: not a member
	}
	return req.Status == meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED, nil
}
