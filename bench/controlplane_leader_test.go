//go:build bench

package bench

import (
	"context"
	"crypto"
	"io"
	"os"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// The leader of BenchmarkControlPlane200 is an unmodified meeting.Session;
// what the bench learns of its work it learns through the interfaces the
// session is given: its chain (each commit: when sent, when in a block,
// the response), its mailbox (each key envelope posted) and its device
// key (each envelope signature, which SealAll asks for once per member).

// cpCommit is one MsgCommitEpoch the leader broadcast.
type cpCommit struct {
	epoch          uint64
	reason         meetingtypes.Reason
	members        []meetingtypes.MemberRef
	rosterHash     []byte
	sent, included time.Time
	res            *sdk.TxResponse
	err            error
}

// cpLeaderChain is the leader's chain client, noting each commit.
type cpLeaderChain struct {
	*verify.Client
	mu      sync.Mutex
	commits []cpCommit
}

func (c *cpLeaderChain) BroadcastIncluded(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	sent := time.Now()
	res, err := c.Client.BroadcastIncluded(ctx, msgs...)
	for _, m := range msgs {
		if ce, ok := m.(*meetingtypes.MsgCommitEpoch); ok {
			c.mu.Lock()
			c.commits = append(c.commits, cpCommit{epoch: ce.Epoch, reason: ce.Reason, members: ce.Members, rosterHash: ce.RosterHash, sent: sent, included: time.Now(), res: res, err: err})
			c.mu.Unlock()
		}
	}
	return res, err
}

// landed returns the commits the chain took, in order.
func (c *cpLeaderChain) landed() []cpCommit {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cpCommit
	for _, cm := range c.commits {
		if cm.err == nil && cm.res != nil {
			out = append(out, cm)
		}
	}
	return out
}

// refused counts the commits that failed.
func (c *cpLeaderChain) refused() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cm := range c.commits {
		if cm.err != nil {
			n++
		}
	}
	return n
}

// cpPost is one key envelope the leader posted.
type cpPost struct {
	epoch       uint64
	to          [32]byte
	start, done time.Time
	err         error
}

// cpLeaderBox is the leader's mailbox, noting each key envelope posted.
type cpLeaderBox struct {
	meeting.Mailbox
	mu       sync.Mutex
	posts    []cpPost
	inflight time.Time // when the post under way began (zero: none)
}

func (m *cpLeaderBox) Post(ctx context.Context, to [32]byte, id []byte, kind uint32, body []byte) error {
	start := time.Now()
	m.mu.Lock()
	m.inflight = start
	m.mu.Unlock()
	err := m.Mailbox.Post(ctx, to, id, kind, body)
	var env keyschedule.Envelope
	ok := kind == meeting.KindMeetingKey && env.Unmarshal(body) == nil
	m.mu.Lock()
	m.inflight = time.Time{}
	if ok {
		m.posts = append(m.posts, cpPost{epoch: env.Epoch, to: to, start: start, done: time.Now(), err: err})
	}
	m.mu.Unlock()
	return err
}

// busy is how long the post under way has taken (0: none).
func (m *cpLeaderBox) busy() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight.IsZero() {
		return 0
	}
	return time.Since(m.inflight)
}

// of returns the posts of epoch e (tries included).
func (m *cpLeaderBox) of(e uint64) []cpPost {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []cpPost
	for _, p := range m.posts {
		if p.epoch == e {
			out = append(out, p)
		}
	}
	return out
}

// cpSigner is the leader's device key, noting when each envelope
// signature (crypto.Signer.Sign: SealAll's only use of it) began and ended.
type cpSigner struct {
	meeting.Signer
	mu    sync.Mutex
	spans [][2]time.Time
}

func (s *cpSigner) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	start := time.Now()
	sig, err := s.Signer.Sign(r, msg, o)
	s.mu.Lock()
	s.spans = append(s.spans, [2]time.Time{start, time.Now()})
	s.mu.Unlock()
	return sig, err
}

// sealing is the span of the envelope signatures made between from and
// to (a commit in its block, and its first envelope posted), and how many.
// SealAll signs each envelope after sealing it, so the span misses the
// first HPKE seal of each worker: short by about 1/(members/workers).
func (s *cpSigner) sealing(from, to time.Time) (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first, last time.Time
	n := 0
	for _, sp := range s.spans {
		if sp[0].Before(from) || sp[1].After(to) {
			continue
		}
		if first.IsZero() || sp[0].Before(first) {
			first = sp[0]
		}
		if sp[1].After(last) {
			last = sp[1]
		}
		n++
	}
	return last.Sub(first), n
}

// cpCPU is the CPU time the nodes and this process had used at a moment.
type cpCPU struct {
	at          time.Time
	nodes, self time.Duration
}

func cpSampleCPU(pids []int) cpCPU {
	c := cpCPU{at: time.Now()}
	for _, pid := range pids {
		if d, err := loadCPU(pid); err == nil {
			c.nodes += d
		}
	}
	c.self, _ = loadCPU(os.Getpid())
	return c
}

// since is the cores the nodes and this process used on average since o.
func (c cpCPU) since(o cpCPU) (nodes, self float64) {
	w := c.at.Sub(o.at).Seconds()
	return (c.nodes - o.nodes).Seconds() / w, (c.self - o.self).Seconds() / w
}
