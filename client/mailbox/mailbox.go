// Package mailbox is the client of the nodes' mailbox service: it signs and
// posts envelopes with this device's key, and subscribes to the envelopes
// addressed to one of this device's ephemeral keys after proving it holds
// the key. It keeps working across node failures by moving to the next
// node in its list. It never sees what it carries: bodies are sealed
// before they get here.
package mailbox

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Signer is a device key (client/keystore's DeviceKey). SignMessage
// returns the pure Ed25519 signature of msg, nil if the key cannot sign.
type Signer interface {
	SignMessage(msg []byte) []byte
	PublicKey() ed25519.PublicKey
}

// Config says which nodes to use and who posts.
type Config struct {
	// Nodes are mailbox gRPC addresses (host:port), tried in order.
	Nodes   []string
	ChainID string
	User    string
	Device  string
	Key     Signer
	// TTL of posted envelopes; default 120 s.
	TTL time.Duration
	// InterfaceWatch is how often the client compares this device's IP
	// addresses with the last ones; when they change (Wi-Fi to cable, a
	// new lease) it drops its connections, so that the next call dials
	// from the new address instead of waiting on a dead one. Default 1 s;
	// negative turns it off.
	InterfaceWatch time.Duration
}

// Client talks to the mailbox of one node at a time.
type Client struct {
	cfg Config

	mu    sync.Mutex
	next  int // index of the node to use
	conns map[string]*grpc.ClientConn

	stopWatch func() // stops the address watcher
}

// Delivery is one envelope the mailbox delivered to this device, after the
// node checked its sender's signature.
type Delivery struct {
	FromUser, FromDevice string
	MeetingID            []byte
	Kind                 uint32
	Body                 []byte
}

// New returns a client; connections are made lazily.
func New(cfg Config) (*Client, error) {
	if len(cfg.Nodes) == 0 {
		return nil, errors.New("mailbox: no node addresses")
	}
	if cfg.TTL == 0 {
		cfg.TTL = 120 * time.Second
	}
	if cfg.InterfaceWatch == 0 {
		cfg.InterfaceWatch = time.Second
	}
	c := &Client{cfg: cfg, conns: map[string]*grpc.ClientConn{}, stopWatch: func() {}}
	if cfg.InterfaceWatch > 0 {
		c.stopWatch = c.watchInterfaces(cfg.InterfaceWatch)
	}
	return c, nil
}

// Close stops the address watcher and closes every connection.
func (c *Client) Close() error {
	c.stopWatch()
	return c.dropConns()
}

// dropConns closes every connection; the next call dials again.
func (c *Client) dropConns() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cc := range c.conns {
		errs = append(errs, cc.Close())
	}
	c.conns = map[string]*grpc.ClientConn{}
	return errors.Join(errs...)
}

// node returns the current node's client and its address.
func (c *Client) node() (mailboxv1.MailboxClient, string, error) {
	c.mu.Lock()
	addr := c.cfg.Nodes[c.next%len(c.cfg.Nodes)]
	c.mu.Unlock()
	mc, err := c.nodeAt(addr)
	return mc, addr, err
}

// nodeAt returns a client of the node at addr, connecting lazily.
func (c *Client) nodeAt(addr string) (mailboxv1.MailboxClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, ok := c.conns[addr]
	if !ok {
		var err error
		cc, err = grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		c.conns[addr] = cc
	}
	return mailboxv1.NewMailboxClient(cc), nil
}

// failover moves to the next node after addr failed.
func (c *Client) failover(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.Nodes[c.next%len(c.cfg.Nodes)] == addr {
		c.next++
	}
}

// Post signs and posts an envelope, trying each node once.
func (c *Client) Post(ctx context.Context, to [32]byte, meetingID []byte, kind uint32, body []byte) error {
	env := &mailboxv1.Envelope{
		To: to[:], FromUser: c.cfg.User, FromDevice: c.cfg.Device, MeetingId: meetingID, Kind: kind, Body: body,
		CreatedAtMs: time.Now().UnixMilli(), TtlSeconds: uint32(c.cfg.TTL / time.Second),
	}
	env.Sig = c.cfg.Key.SignMessage(mailboxv1.SignBytes(c.cfg.ChainID, env))
	var errs []error
	for range c.cfg.Nodes {
		mc, addr, err := c.node()
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = mc.Post(pctx, &mailboxv1.PostRequest{Envelope: env})
			cancel()
			if err == nil {
				return nil
			}
			if !retryable(err) {
				return fmt.Errorf("mailbox %s: %w", addr, err)
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		c.failover(addr)
	}
	return fmt.Errorf("mailbox: no node accepted the envelope: %w", errors.Join(errs...))
}

// Subscribe streams deliveries for the ephemeral key priv, resubscribing
// (at the next node if needed) whenever a stream breaks, until ctx ends.
// A node resends what it still stores, so a delivery can repeat; the key
// schedule ignores envelopes it has already used.
func (c *Client) Subscribe(ctx context.Context, priv hpke.PrivateKey, meetingID []byte) (<-chan Delivery, error) {
	out := make(chan Delivery, 64)
	first := make(chan error, 1)
	go func() {
		defer close(out)
		backoff := 100 * time.Millisecond
		reported := false
		for ctx.Err() == nil {
			err := c.stream(ctx, priv, meetingID, out, func() {
				if !reported {
					reported = true
					first <- nil
				}
				backoff = 100 * time.Millisecond
			})
			if ctx.Err() != nil {
				break
			}
			if !reported && !retryable(err) {
				reported = true
				first <- err
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			if backoff < 2*time.Second {
				backoff *= 2
			}
		}
		if !reported {
			first <- ctx.Err()
		}
	}()
	if err := <-first; err != nil {
		return nil, err
	}
	return out, nil
}

// stream runs one subscription at the current node until it breaks.
func (c *Client) stream(ctx context.Context, priv hpke.PrivateKey, meetingID []byte, out chan<- Delivery, started func()) error {
	mc, addr, err := c.node()
	if err != nil {
		c.failover(addr)
		return err
	}
	fail := func(err error) error {
		if retryable(err) {
			c.failover(addr)
		}
		return fmt.Errorf("mailbox %s: %w", addr, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ch, err := mc.Challenge(cctx, &mailboxv1.ChallengeRequest{RecipientPk: priv.PublicKey().Bytes()})
	cancel()
	if err != nil {
		return fail(err)
	}
	answer, err := mailboxv1.OpenChallenge(priv, ch)
	if err != nil {
		return err
	}
	st, err := mc.Subscribe(ctx, &mailboxv1.SubscribeRequest{ChallengeId: ch.ChallengeId, Answer: answer, MeetingId: meetingID})
	if err != nil {
		return fail(err)
	}
	started()
	for {
		env, err := st.Recv()
		if err != nil {
			return fail(err)
		}
		select {
		case out <- Delivery{FromUser: env.FromUser, FromDevice: env.FromDevice, MeetingID: env.MeetingId, Kind: env.Kind, Body: env.Body}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
