package mailbox

import (
	"context"
	"fmt"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
)

// CredentialIssuer makes TURN credentials for a device; node/turn's server
// is one. subject names the device ("user/device"); the issuer turns it
// into an opaque ID, so that the credential does not name the device.
type CredentialIssuer interface {
	IssueTURN(subject string) (TURNCredential, error)
}

// TURNCredential is a time-limited TURN credential and the URLs it is for.
type TURNCredential struct {
	URLs     []string
	Username string
	Password string
	Expires  time.Time
}

// Rosters tells whether a device is in the current epoch of an open
// meeting, from the node's latest committed state; node/start.go
// implements it on the app's x/meeting keeper. An error means the state
// could not be read.
type Rosters interface {
	InCurrentRoster(ctx context.Context, meetingID []byte, user, device string) (bool, error)
}

// RelayConfig sets how the mailbox hands out credentials for the node's
// TURN relay. Zero fields take the defaults.
type RelayConfig struct {
	// Window is how far a request's created_at_ms may be from the node's
	// clock, either way (default 30 s). Nonces are kept until their request
	// leaves the window: this is all the state credentials cost.
	Window time.Duration
	// MaxNonces bounds the nonces kept (default 100 000); when full, new
	// requests are refused with ErrTooManyRequests until some expire.
	MaxNonces int
	// Rate and Burst are each device's token bucket for credential
	// requests (default 1 per second, burst 20).
	Rate  float64
	Burst int
	// RequireMember makes the node give credentials only to members of
	// the current epoch of an open meeting named in the request; it needs
	// Rosters.
	RequireMember bool
	Rosters       Rosters
	// Clock defaults to SystemClock.
	Clock Clock
}

// Defaults of RelayConfig.
const (
	DefaultRelayWindow = 30 * time.Second
	DefaultMaxNonces   = 100_000
	DefaultRelayRate   = 1
	DefaultRelayBurst  = 20
)

func (c RelayConfig) withDefaults() RelayConfig {
	if c.Window <= 0 {
		c.Window = DefaultRelayWindow
	}
	if c.MaxNonces <= 0 {
		c.MaxNonces = DefaultMaxNonces
	}
	if c.Rate <= 0 {
		c.Rate = DefaultRelayRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultRelayBurst
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	return c
}

// relay answers TurnCredentials: it checks the request the way the intake
// checks an envelope — shape, clock, signature against the chain, the
// device's rate — then the nonce and, if the node wants, the roster, and
// only then asks the issuer.
type relay struct {
	cfg      RelayConfig
	issuer   CredentialIssuer
	verifier *Verifier
	limiter  *RateLimiter

	nonces *nonceSet
}

func newRelay(issuer CredentialIssuer, verifier *Verifier, cfg RelayConfig) (*relay, error) {
	cfg = cfg.withDefaults()
	if issuer == nil {
		return nil, fmt.Errorf("mailbox: a relay needs a CredentialIssuer")
	}
	if cfg.RequireMember && cfg.Rosters == nil {
		return nil, fmt.Errorf("mailbox: RelayConfig.RequireMember needs Rosters")
	}
	return &relay{
		cfg:      cfg,
		issuer:   issuer,
		verifier: verifier,
		limiter:  NewRateLimiter(RateConfig{Rate: cfg.Rate, Burst: cfg.Burst, Clock: cfg.Clock}),
		nonces:   newNonceSet(cfg.MaxNonces),
	}, nil
}

// issue checks req and returns a credential, cheapest checks first.
func (r *relay) issue(ctx context.Context, req *mailboxv1.TurnCredentialsRequest) (*mailboxv1.TurnCredentialsResponse, error) {
	if err := mailboxv1.ValidateTURNRequest(req); err != nil {
		return nil, err
	}
	now := r.cfg.Clock.Now()
	created := time.UnixMilli(req.CreatedAtMs)
	if skew := created.Sub(now); skew > r.cfg.Window || skew < -r.cfg.Window {
		return nil, fmt.Errorf("%w: created_at_ms is %v from the node's clock, more than the %v allowed; check the device's clock",
			ErrStaleRequest, skew.Round(time.Millisecond), r.cfg.Window)
	}
	device := ids.DeviceRef{User: req.User, Device: req.Device}.String()
	if err := r.verifier.VerifyDevice(ctx, req.User, req.Device, mailboxv1.TURNSignBytes(r.verifier.ChainID(), req), req.Sig); err != nil {
		return nil, err
	}
	if !r.limiter.Allow("turn\x00" + device) {
		return nil, fmt.Errorf("%w: device %s asks for TURN credentials more than %g times per second (burst %d)",
			ErrRateLimited, device, r.cfg.Rate, r.cfg.Burst)
	}
	if err := r.nonces.use(req.User, req.Device, req.Nonce, created.Add(r.cfg.Window), now, r.cfg.Window); err != nil {
		return nil, err
	}
	if r.cfg.RequireMember {
		if err := r.checkMember(ctx, req); err != nil {
			return nil, err
		}
	}
	c, err := r.issuer.IssueTURN(device)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", mailboxv1.ErrRelayDisabled, err)
	}
	return &mailboxv1.TurnCredentialsResponse{
		Urls: c.URLs, Username: c.Username, Password: c.Password, ExpiresAtMs: c.Expires.UnixMilli(),
	}, nil
}

func (r *relay) checkMember(ctx context.Context, req *mailboxv1.TurnCredentialsRequest) error {
	if len(req.MeetingId) == 0 {
		return fmt.Errorf("%w: this node relays only for members of a current roster; name the meeting in meeting_id", ErrNotMember)
	}
	ok, err := r.cfg.Rosters.InCurrentRoster(ctx, req.MeetingId, req.User, req.Device)
	switch {
	case err != nil:
		return fmt.Errorf("%w: roster of meeting %x: %v", ErrKeysUnavailable, req.MeetingId, err)
	case !ok:
		return fmt.Errorf("%w: %s/%s is not in the current epoch of an open meeting %x", ErrNotMember, req.User, req.Device, req.MeetingId)
	}
	return nil
}

// nonceCount returns the number of nonces kept.
func (r *relay) nonceCount() int { return r.nonces.count() }
