//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// cpRecords reads each epoch record once for every light member: from the
// newest block, as a member's session does when it installs an epoch
// early (the envelope, signed by the proven leader key over the roster
// hash and opening to the committed key, vouches for it), and proven at
// the end of the run (cpRecords.prove).
type cpRecords struct {
	obs       *verify.Client
	id        []byte
	leader    meeting.DeviceRef
	leaderPub ed25519.PublicKey // proven at set-up

	mu     sync.Mutex
	epochs map[uint64]*cpRecord
}

type cpRecord struct {
	ready chan struct{}
	e     meetingtypes.Epoch
	err   error
}

func newCPRecords(obs *verify.Client, id []byte, leader meeting.DeviceRef, leaderPub ed25519.PublicKey) *cpRecords {
	return &cpRecords{obs: obs, id: id, leader: leader, leaderPub: leaderPub, epochs: map[uint64]*cpRecord{}}
}

// get returns epoch n's record, read by the first member that asks; a
// node whose newest block does not hold it yet is asked again for up to
// 10 s.
func (r *cpRecords) get(ctx context.Context, n uint64) (meetingtypes.Epoch, error) {
	r.mu.Lock()
	rec, ok := r.epochs[n]
	if !ok {
		rec = &cpRecord{ready: make(chan struct{})}
		r.epochs[n] = rec
	}
	r.mu.Unlock()
	if !ok {
		rec.e, rec.err = r.read(ctx, n)
		close(rec.ready)
	}
	select {
	case <-rec.ready:
		return rec.e, rec.err
	case <-ctx.Done():
		return meetingtypes.Epoch{}, ctx.Err()
	}
}

func (r *cpRecords) read(ctx context.Context, n uint64) (meetingtypes.Epoch, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		tip, err := r.obs.Reader().Tip(ctx)
		if err == nil {
			var e meetingtypes.Epoch
			if e, err = tip.Epoch(ctx, r.id, n); err == nil {
				return e, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return meetingtypes.Epoch{}, fmt.Errorf("epoch %d: %w", n, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// prove reads every epoch record handed out with a proof and checks it is
// the one the members installed from.
func (r *cpRecords) prove(ctx context.Context) error {
	snap, err := r.obs.Reader().Latest(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for n, rec := range r.epochs {
		if rec.err != nil {
			continue
		}
		e, err := snap.Epoch(ctx, r.id, n)
		if err != nil {
			return fmt.Errorf("proving epoch %d: %w", n, err)
		}
		if !bytes.Equal(e.RosterHash, rec.e.RosterHash) || !bytes.Equal(e.KeyCommitment, rec.e.KeyCommitment) {
			return fmt.Errorf("epoch %d as proven differs from the newest block's read", n)
		}
	}
	return nil
}

// cpMember is one of the 199 devices that join. A light member (real
// false) is the part of a member's session that a key passes through:
// its own mailbox subscription (client/mailbox, proving it holds its
// ephemeral key), the envelope checked and opened against the epoch
// record (keyschedule.Open: context, recipient, leader, signature, HPKE,
// key commitment) and its roster entry checked against its own key. A
// real member runs a meeting.Session.
type cpMember struct {
	p    *latParty
	real bool

	sent, requested time.Time // MsgRequestJoin sent; in a block
	reqHeight       int64

	mu        sync.Mutex
	priv      hpke.PrivateKey
	installed map[uint64]time.Time // each epoch's key installed
	delivered map[uint64]int       // key envelopes delivered, by epoch
	problems  []string             // the first few
	nproblems int
	removedAt time.Time
	err       error         // a real session's Run result
	done      chan struct{} // a real session: closed when Run returned
	sess      *meeting.Session
}

func newCPMember(p *latParty, real bool) *cpMember {
	return &cpMember{p: p, real: real, installed: map[uint64]time.Time{}, delivered: map[uint64]int{}}
}

func (m *cpMember) problem(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nproblems++
	if len(m.problems) < 4 {
		m.problems = append(m.problems, time.Now().Format("15:04:05.000 ")+s)
	}
}

// installedAt is when epoch e's key was installed.
func (m *cpMember) installedAt(e uint64) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.installed[e]
	return t, ok
}

// first is the first epoch installed and when.
func (m *cpMember) first() (uint64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var e uint64
	for n := range m.installed {
		if e == 0 || n < e {
			e = n
		}
	}
	return e, m.installed[e]
}

// newest is the newest epoch installed.
func (m *cpMember) newest() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var e uint64
	for n := range m.installed {
		e = max(e, n)
	}
	return e
}

// deliveredFrom counts the key envelopes of epoch e or later delivered.
func (m *cpMember) deliveredFrom(e uint64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for ep, c := range m.delivered {
		if ep >= e {
			n += c
		}
	}
	return n
}

// join asks to join, then runs the member: a real session, or a light
// member's subscription. sent is taken after the device's chain client
// starts, as in latJoin.
func (m *cpMember) join(ctx context.Context, id []byte, recs *cpRecords) error {
	if err := m.p.newChain(); err != nil {
		return err
	}
	sent := time.Now()
	m.mu.Lock()
	m.sent = sent
	m.mu.Unlock()
	res, err := meeting.Request(ctx, m.p.chain, m.p.eph, m.p.dev, id, nil)
	if err != nil {
		return fmt.Errorf("%s: request: %w", m.p.name(), err)
	}
	priv, err := m.p.eph.Load(id, m.p.dev)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.requested, m.reqHeight, m.priv = time.Now(), res.Height, priv
	m.mu.Unlock()
	box := &cpTeeBox{Mailbox: m.p.mbox, m: m}
	if m.real {
		return m.runSession(ctx, id, box)
	}
	ch, err := box.Subscribe(ctx, priv, id)
	if err != nil {
		return fmt.Errorf("%s: subscribe: %w", m.p.name(), err)
	}
	go func() {
		for d := range ch {
			m.take(ctx, id, recs, priv, d)
		}
	}()
	return nil
}

// take is a light member's handling of one delivery.
func (m *cpMember) take(ctx context.Context, id []byte, recs *cpRecords, priv hpke.PrivateKey, d meeting.Delivery) {
	if d.Kind != meeting.KindMeetingKey {
		return
	}
	var env keyschedule.Envelope
	if err := env.Unmarshal(d.Body); err != nil {
		m.problem("unreadable envelope: " + err.Error())
		return
	}
	if env.Epoch <= m.newest() {
		return // late, or a node resending what it stores
	}
	e, err := recs.get(ctx, env.Epoch)
	if err != nil {
		m.problem(err.Error())
		return
	}
	self := meetingtypes.SenderIndex(e.Members, m.p.user, m.p.device)
	switch {
	case self < 0:
		m.problem(fmt.Sprintf("epoch %d does not list this device", e.Epoch))
		return
	case !bytes.Equal(meetingtypes.RosterHash(id, e.Members), e.RosterHash):
		m.problem(fmt.Sprintf("epoch %d: roster hash does not match its members", e.Epoch))
		return
	case !bytes.Equal(e.Members[self].EphPkHash, meetingtypes.EphKeyHash(priv.PublicKey().Bytes())):
		m.problem(fmt.Sprintf("epoch %d lists another ephemeral key for this device", e.Epoch))
		return
	case e.LeaderUser != recs.leader.User || e.LeaderDevice != recs.leader.Device:
		m.problem(fmt.Sprintf("epoch %d has leader %s/%s", e.Epoch, e.LeaderUser, e.LeaderDevice))
		return
	}
	kctx, err := keyschedule.NewContext(m.p.chain.ChainID(), id, e.Epoch, e.RosterHash)
	if err != nil {
		m.problem(err.Error())
		return
	}
	mk, err := keyschedule.Open(&env, priv, keyschedule.Expectation{
		Context: kctx, KeyCommitment: e.KeyCommitment, LeaderPubKey: recs.leaderPub,
		LeaderUser: e.LeaderUser, LeaderDevice: e.LeaderDevice,
	})
	if err != nil {
		m.problem(fmt.Sprintf("epoch %d: %v", e.Epoch, err))
		return
	}
	clear(mk)
	m.mu.Lock()
	m.installed[e.Epoch] = time.Now()
	m.mu.Unlock()
}

// runSession runs a real member's session until ctx ends or it ends.
func (m *cpMember) runSession(ctx context.Context, id []byte, box meeting.Mailbox) error {
	s, err := meeting.NewSession(meeting.Config{
		Chain: m.p.chain, Mailbox: box, Device: m.p.dev, MeetingID: id, Eph: m.p.eph,
		RotateEvery: time.Hour, // no periodic rekey or key rotation inside the measurement
		OnEpoch: func(ep meeting.Epoch) {
			m.mu.Lock()
			m.installed[ep.Number] = time.Now()
			m.mu.Unlock()
		},
		OnEvent: func(e meeting.Event) {
			switch e := e.(type) {
			case meeting.EventRemoved:
				m.mu.Lock()
				m.removedAt = time.Now()
				m.mu.Unlock()
			case meeting.EventProblem:
				m.problem(e.String())
			}
		},
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.sess, m.done = s, make(chan struct{})
	m.mu.Unlock()
	go func() {
		err := s.Run(ctx)
		m.mu.Lock()
		m.err = err
		m.mu.Unlock()
		close(m.done)
	}()
	return nil
}

// ended waits up to limit for a real session to end and returns why
// (errCPRunning if it did not).
func (m *cpMember) ended(limit time.Duration) error {
	select {
	case <-m.done:
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.err
	case <-time.After(limit):
		return errCPRunning
	}
}

// cpTeeBox is a member's mailbox that counts the key envelopes delivered,
// by epoch, before the member sees them.
type cpTeeBox struct {
	meeting.Mailbox
	m *cpMember
}

func (b *cpTeeBox) Subscribe(ctx context.Context, priv hpke.PrivateKey, id []byte) (<-chan meeting.Delivery, error) {
	in, err := b.Mailbox.Subscribe(ctx, priv, id)
	if err != nil {
		return nil, err
	}
	out := make(chan meeting.Delivery, cap(in))
	go func() {
		defer close(out)
		for d := range in {
			var env keyschedule.Envelope
			if d.Kind == meeting.KindMeetingKey && env.Unmarshal(d.Body) == nil {
				b.m.mu.Lock()
				b.m.delivered[env.Epoch]++
				b.m.mu.Unlock()
			}
			select {
			case out <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

var errCPRunning = errors.New("the session still runs")
