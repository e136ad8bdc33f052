package mailbox

import (
	"context"
	"fmt"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
)

// MediaRelay is the node's selective forwarding relay (node/sfu) as the
// mailbox admits devices to it: Join takes an admitted member's offer and
// returns the relay's answer. Its errors wrap mailboxv1.ErrBadOffer or
// mailboxv1.ErrRelayFull when the relay refuses.
type MediaRelay interface {
	Join(ctx context.Context, meetingID []byte, user, device, offerSDP string) (answerSDP string, err error)
}

// MediaRelayConfig sets how the mailbox admits devices to the media
// relay. Zero fields take the defaults of RelayConfig (window, nonces,
// rate); Rosters is required: the relay serves members only.
type MediaRelayConfig struct {
	Window    time.Duration
	MaxNonces int
	Rate      float64
	Burst     int
	Rosters   Rosters
	Clock     Clock
}

// mediaGate answers RelayConnect: the checks of a TURN credential request
// (shape, clock, signature against the chain, rate, nonce) and always the
// roster, then the relay.
type mediaGate struct {
	cfg      RelayConfig
	relay    MediaRelay
	verifier *Verifier
	limiter  *RateLimiter
	nonces   *nonceSet
}

func newMediaGate(mr MediaRelay, verifier *Verifier, c MediaRelayConfig) (*mediaGate, error) {
	if mr == nil {
		return nil, fmt.Errorf("mailbox: a media relay gate needs a MediaRelay")
	}
	if c.Rosters == nil {
		return nil, fmt.Errorf("mailbox: MediaRelayConfig needs Rosters: the media relay serves members only")
	}
	cfg := RelayConfig{Window: c.Window, MaxNonces: c.MaxNonces, Rate: c.Rate, Burst: c.Burst, Rosters: c.Rosters, Clock: c.Clock}.withDefaults()
	return &mediaGate{
		cfg:      cfg,
		relay:    mr,
		verifier: verifier,
		limiter:  NewRateLimiter(RateConfig{Rate: cfg.Rate, Burst: cfg.Burst, Clock: cfg.Clock}),
		nonces:   newNonceSet(cfg.MaxNonces),
	}, nil
}

// connect checks req, cheapest checks first, and hands the offer to the
// relay.
func (g *mediaGate) connect(ctx context.Context, req *mailboxv1.RelayConnectRequest) (*mailboxv1.RelayConnectResponse, error) {
	if err := mailboxv1.ValidateRelayConnect(req); err != nil {
		return nil, err
	}
	now := g.cfg.Clock.Now()
	created := time.UnixMilli(req.CreatedAtMs)
	if skew := created.Sub(now); skew > g.cfg.Window || skew < -g.cfg.Window {
		return nil, fmt.Errorf("%w: created_at_ms is %v from the node's clock, more than the %v allowed; check the device's clock",
			ErrStaleRequest, skew.Round(time.Millisecond), g.cfg.Window)
	}
	device := ids.DeviceRef{User: req.User, Device: req.Device}.String()
	if err := g.verifier.VerifyDevice(ctx, req.User, req.Device, mailboxv1.RelayConnectSignBytes(g.verifier.ChainID(), req), req.Sig); err != nil {
		return nil, err
	}
	if !g.limiter.Allow("media\x00" + device) {
		return nil, fmt.Errorf("%w: device %s connects to the media relay more than %g times per second (burst %d)",
			ErrRateLimited, device, g.cfg.Rate, g.cfg.Burst)
	}
	if err := g.nonces.use(req.User, req.Device, req.Nonce, created.Add(g.cfg.Window), now, g.cfg.Window); err != nil {
		return nil, err
	}
	in, err := g.cfg.Rosters.InCurrentRoster(ctx, req.MeetingId, req.User, req.Device)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: roster of meeting %x: %v", ErrKeysUnavailable, req.MeetingId, err)
	case !in:
		return nil, fmt.Errorf("%w: %s is not in the current epoch of an open meeting %x", ErrNotMember, device, req.MeetingId)
	}
	answer, err := g.relay.Join(ctx, req.MeetingId, req.User, req.Device, req.OfferSdp)
	if err != nil {
		return nil, err
	}
	return &mailboxv1.RelayConnectResponse{AnswerSdp: answer}, nil
}
