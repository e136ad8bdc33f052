package mailbox

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// ChallengeConfig sets the subscription challenges. Zero fields take the
// defaults.
type ChallengeConfig struct {
	// TTL is how long a challenge may be redeemed (default 30 s).
	TTL time.Duration
	// MaxOutstanding bounds unredeemed, unexpired challenges (default 10 000).
	MaxOutstanding int
	// Clock defaults to SystemClock.
	Clock Clock
}

// Defaults of ChallengeConfig.
const (
	DefaultChallengeTTL   = 30 * time.Second
	DefaultMaxOutstanding = 10_000
)

func (c ChallengeConfig) withDefaults() ChallengeConfig {
	if c.TTL <= 0 {
		c.TTL = DefaultChallengeTTL
	}
	if c.MaxOutstanding <= 0 {
		c.MaxOutstanding = DefaultMaxOutstanding
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	return c
}

type challengeID = [mailboxv1.ChallengeIDSize]byte

type pendingChallenge struct {
	to      recipient
	answer  []byte
	expires time.Time
}

// challenges holds the outstanding subscription challenges.
type challenges struct {
	cfg ChallengeConfig

	mu      sync.Mutex
	pending map[challengeID]pendingChallenge
}

func newChallenges(cfg ChallengeConfig) *challenges {
	return &challenges{cfg: cfg.withDefaults(), pending: make(map[challengeID]pendingChallenge)}
}

// issue seals a fresh answer to recipientPK and remembers it.
func (c *challenges) issue(recipientPK []byte) (*mailboxv1.ChallengeResponse, error) {
	// Refuse before sealing when full: HPKE with ML-KEM is the costly part.
	if err := c.room(c.cfg.Clock.Now()); err != nil {
		return nil, err
	}
	var id challengeID
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("mailbox: challenge_id: %w", err)
	}
	answer, resp, err := mailboxv1.SealChallenge(recipientPK, id[:])
	if err != nil {
		return nil, err
	}
	now := c.cfg.Clock.Now()
	if err := c.room(now); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[id] = pendingChallenge{
		to:      mailboxv1.RecipientHash(recipientPK),
		answer:  answer,
		expires: now.Add(c.cfg.TTL),
	}
	return resp, nil
}

// room purges expired challenges when the table is full and reports
// whether one more fits. Between room and the insert the table may grow by
// the challenges being sealed concurrently, at most one per caller.
func (c *challenges) room(now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) < c.cfg.MaxOutstanding {
		return nil
	}
	for k, p := range c.pending {
		if !now.Before(p.expires) {
			delete(c.pending, k)
		}
	}
	if len(c.pending) >= c.cfg.MaxOutstanding {
		return fmt.Errorf("%w: %d outstanding; try again within %v", ErrTooManyChallenges, len(c.pending), c.cfg.TTL)
	}
	return nil
}

// redeem consumes the challenge, right or wrong, and returns the recipient
// it was issued for if answer matches.
func (c *challenges) redeem(id, answer []byte) (recipient, error) {
	var key challengeID
	if len(id) != len(key) {
		return recipient{}, fmt.Errorf("%w: challenge_id: want %d bytes, got %d", mailboxv1.ErrInvalidChallenge, len(key), len(id))
	}
	copy(key[:], id)
	now := c.cfg.Clock.Now()
	c.mu.Lock()
	p, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if !ok || !now.Before(p.expires) {
		return recipient{}, fmt.Errorf("%w: challenge_id is unknown, expired or already used; ask for a new challenge", ErrChallengeFailed)
	}
	if subtle.ConstantTimeCompare(p.answer, answer) != 1 {
		return recipient{}, fmt.Errorf("%w: answer does not match; the challenge is used up", ErrChallengeFailed)
	}
	return p.to, nil
}

// outstanding returns the number of challenges kept.
func (c *challenges) outstanding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
