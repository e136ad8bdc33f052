package mailbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Relay is a node's STUN and TURN service with a credential for it.
type Relay struct {
	// Node is the mailbox address that answered.
	Node string
	// URLs are the node's stun:, turn: and turns: URLs.
	URLs []string
	// Username and Password are the time-limited credential.
	Username, Password string
	// Expires is when the credential stops opening allocations.
	Expires time.Time
}

// ErrNoRelay: no node in the list gave a credential.
var ErrNoRelay = errors.New("mailbox: no node relays for this device")

// relayTimeout bounds one node's answer to a credential request.
const relayTimeout = 3 * time.Second

// Relays asks the nodes, in list order, for credentials for their TURN
// relays, proving with a signed, single-use request that this device is
// registered and active (PROTOCOL.md section 11); meetingID (nil for
// none) names the meeting, for nodes that relay only for its members. A
// node that does not relay, refuses, or does not answer is skipped. It
// returns the first max relays (every one when max ≤ 0), or ErrNoRelay
// with each node's reason.
func (c *Client) Relays(ctx context.Context, meetingID []byte, max int) ([]Relay, error) {
	var out []Relay
	var errs []error
	for _, addr := range c.cfg.Nodes {
		if max > 0 && len(out) == max {
			break
		}
		r, err := c.relay(ctx, addr, meetingID)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoRelay, errors.Join(errs...))
	}
	return out, nil
}

// relay asks one node.
func (c *Client) relay(ctx context.Context, addr string, meetingID []byte) (Relay, error) {
	mc, err := c.nodeAt(addr)
	if err != nil {
		return Relay{}, err
	}
	req := &mailboxv1.TurnCredentialsRequest{
		User: c.cfg.User, Device: c.cfg.Device, CreatedAtMs: time.Now().UnixMilli(),
		Nonce: make([]byte, mailboxv1.TURNNonceSize), MeetingId: meetingID,
	}
	if _, err := rand.Read(req.Nonce); err != nil {
		return Relay{}, err
	}
	req.Sig = c.cfg.Key.SignMessage(mailboxv1.TURNSignBytes(c.cfg.ChainID, req))
	rctx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	resp, err := mc.TurnCredentials(rctx, req)
	if err != nil {
		if reason := mailboxv1.Reason(err); reason != "" {
			return Relay{}, fmt.Errorf("%s: %w", reason, err)
		}
		return Relay{}, err
	}
	if len(resp.Urls) == 0 || resp.Username == "" || resp.Password == "" {
		return Relay{}, errors.New("the node answered without URLs or a credential")
	}
	return Relay{
		Node: addr, URLs: resp.Urls, Username: resp.Username, Password: resp.Password,
		Expires: time.UnixMilli(resp.ExpiresAtMs),
	}, nil
}

// RelaySource returns what call.Reach.Relays takes: the first max relays
// (Relays) as ICE servers, and the earliest expiry among their
// credentials.
func (c *Client) RelaySource(meetingID []byte, max int) func(ctx context.Context) ([]webrtc.ICEServer, time.Time, error) {
	return func(ctx context.Context) ([]webrtc.ICEServer, time.Time, error) {
		relays, err := c.Relays(ctx, meetingID, max)
		if err != nil {
			return nil, time.Time{}, err
		}
		var expires time.Time
		servers := make([]webrtc.ICEServer, 0, len(relays))
		for _, r := range relays {
			servers = append(servers, webrtc.ICEServer{URLs: r.URLs, Username: r.Username, Credential: r.Password})
			if expires.IsZero() || r.Expires.Before(expires) {
				expires = r.Expires
			}
		}
		return servers, expires, nil
	}
}
