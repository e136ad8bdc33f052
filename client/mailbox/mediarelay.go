package mailbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// ErrNoMediaRelay: no node in the list took this device's offer.
var ErrNoMediaRelay = errors.New("mailbox: no node's media relay took the offer")

// mediaRelayTimeout bounds one node's answer: the relay gathers its
// candidates before answering.
const mediaRelayTimeout = 10 * time.Second

// RelayConnect hands this device's complete WebRTC offer to a node's media
// relay (PROTOCOL.md section 12) with a signed, single-use request that
// proves the device is in the current roster of meetingID, and returns the
// relay's answer and the address of the node that answered. It asks the
// current node first, then the others in list order, skipping the node
// at skip (a relay just lost). A node without a media relay, that refuses
// or that does not answer is passed over; ErrNoMediaRelay carries each
// node's reason.
func (c *Client) RelayConnect(ctx context.Context, meetingID []byte, offer, skip string) (answer, node string, err error) {
	c.mu.Lock()
	first := c.next
	c.mu.Unlock()
	var errs []error
	for i := range c.cfg.Nodes {
		addr := c.cfg.Nodes[(first+i)%len(c.cfg.Nodes)]
		if addr == skip {
			continue
		}
		answer, err := c.relayConnect(ctx, addr, meetingID, offer)
		if err == nil {
			return answer, addr, nil
		}
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return "", "", fmt.Errorf("%w: %w", ErrNoMediaRelay, errors.Join(errs...))
}

// relayConnect asks one node.
func (c *Client) relayConnect(ctx context.Context, addr string, meetingID []byte, offer string) (string, error) {
	mc, err := c.nodeAt(addr)
	if err != nil {
		return "", err
	}
	req := &mailboxv1.RelayConnectRequest{
		User: c.cfg.User, Device: c.cfg.Device, CreatedAtMs: time.Now().UnixMilli(),
		Nonce: make([]byte, mailboxv1.RelayNonceSize), MeetingId: meetingID, OfferSdp: offer,
	}
	if _, err := rand.Read(req.Nonce); err != nil {
		return "", err
	}
	req.Sig = c.cfg.Key.SignMessage(mailboxv1.RelayConnectSignBytes(c.cfg.ChainID, req))
	rctx, cancel := context.WithTimeout(ctx, mediaRelayTimeout)
	defer cancel()
	resp, err := mc.RelayConnect(rctx, req)
	if err != nil {
		if reason := mailboxv1.Reason(err); reason != "" {
			return "", fmt.Errorf("%s: %w", reason, err)
		}
		return "", err
	}
	if resp.AnswerSdp == "" {
		return "", errors.New("the node answered without an SDP")
	}
	return resp.AnswerSdp, nil
}

// MediaRelay returns RelayConnect bound to meetingID, in the shape of
// client/call's Config.MediaRelay.
func (c *Client) MediaRelay(meetingID []byte) func(ctx context.Context, offer, skip string) (answer, node string, err error) {
	id := append([]byte(nil), meetingID...)
	return func(ctx context.Context, offer, skip string) (string, string, error) {
		return c.RelayConnect(ctx, id, offer, skip)
	}
}
