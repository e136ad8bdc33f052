package mailbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/p2p"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// ReactorConfig tunes the gossip reactor. Zero fields take the defaults.
type ReactorConfig struct {
	// QueueSize is how many envelopes may wait for one peer (default 1024);
	// beyond it envelopes for that peer are dropped.
	QueueSize int
	// MaxStrikes is how many invalid envelopes a peer may send before it is
	// disconnected (default 10).
	MaxStrikes int
	// SendTimeout is how long an envelope may wait for room in a peer's
	// connection before it is dropped (default 10 s).
	SendTimeout time.Duration
}

// Defaults of ReactorConfig.
const (
	DefaultQueueSize   = 1024
	DefaultMaxStrikes  = 10
	DefaultSendTimeout = 10 * time.Second

	// ReactorName is the reactor's name in the CometBFT switch.
	ReactorName = "MAILBOX"

	peerStrikesKey = "mailbox.strikes"
)

func (c ReactorConfig) withDefaults() ReactorConfig {
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxStrikes <= 0 {
		c.MaxStrikes = DefaultMaxStrikes
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	return c
}

// ReactorStats counts what the reactor did since it was made.
type ReactorStats struct {
	Received   uint64 // envelopes received from peers
	Accepted   uint64 // of those, stored and forwarded
	Duplicates uint64 // of those, already stored: dropped, not forwarded
	Invalid    uint64 // of those, malformed or badly signed: the peer's fault
	Refused    uint64 // of those, refused for other reasons (rate, room, clock, chain state)
	Forwarded  uint64 // envelopes handed to a peer's connection
	Dropped    uint64 // envelopes not sent to a peer: its queue was full or it was too slow
}

// Reactor gossips envelopes over a CometBFT p2p channel (ChannelID): an
// envelope accepted locally or from a peer is sent to every peer except
// the one it came from. Envelopes from peers go through the same Intake as
// Post; a duplicate is dropped silently and not forwarded, which ends
// every gossip loop.
type Reactor struct {
	p2p.BaseReactor

	intake *Intake
	cfg    ReactorConfig
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	links   map[p2p.ID]*peerLink
	wg      sync.WaitGroup

	received, accepted, duplicates, invalid, refused, forwarded, dropped atomic.Uint64
}

// peerLink is the outbound queue of one peer and its sender goroutine.
type peerLink struct {
	peer  p2p.Peer
	queue chan *mailboxv1.GossipMessage
	stop  chan struct{}
}

// NewReactor returns a reactor that takes envelopes through intake. The
// switch it is added to starts and stops it.
func NewReactor(intake *Intake, cfg ReactorConfig) *Reactor {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Reactor{
		intake: intake,
		cfg:    cfg.withDefaults(),
		ctx:    ctx,
		cancel: cancel,
		links:  make(map[p2p.ID]*peerLink),
	}
	r.BaseReactor = *p2p.NewBaseReactor("Mailbox", r)
	return r
}

// GetChannels implements p2p.Reactor.
func (r *Reactor) GetChannels() []*p2p.ChannelDescriptor {
	return []*p2p.ChannelDescriptor{{
		ID:                  mailboxv1.ChannelID,
		Priority:            5,
		SendQueueCapacity:   64,
		RecvMessageCapacity: mailboxv1.MaxGossipMessageSize,
		MessageType:         &mailboxv1.GossipMessage{},
	}}
}

// OnStop stops every peer's sender and waits for them.
func (r *Reactor) OnStop() {
	r.cancel()
	r.mu.Lock()
	r.stopped = true
	for id, l := range r.links {
		close(l.stop)
		delete(r.links, id)
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// InitPeer implements p2p.Reactor: it gives the peer a strike counter.
func (r *Reactor) InitPeer(peer p2p.Peer) p2p.Peer {
	peer.Set(peerStrikesKey, new(atomic.Int64))
	return peer
}

// AddPeer implements p2p.Reactor: it starts the peer's sender, unless the
// peer does not speak the mailbox channel (a node without a mailbox).
func (r *Reactor) AddPeer(peer p2p.Peer) {
	if ni, ok := peer.NodeInfo().(interface{ HasChannel(byte) bool }); ok && !ni.HasChannel(mailboxv1.ChannelID) {
		r.Logger.Debug("peer has no mailbox channel; not gossiping to it", "peer", peer.ID())
		return
	}
	l := &peerLink{
		peer:  peer,
		queue: make(chan *mailboxv1.GossipMessage, r.cfg.QueueSize),
		stop:  make(chan struct{}),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if old := r.links[peer.ID()]; old != nil {
		close(old.stop)
	}
	r.links[peer.ID()] = l
	r.wg.Add(1)
	go r.sendRoutine(l)
}

// RemovePeer implements p2p.Reactor: it stops the peer's sender; what was
// queued for it is dropped.
func (r *Reactor) RemovePeer(peer p2p.Peer, _ any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.links[peer.ID()]; l != nil && l.peer == peer {
		close(l.stop)
		delete(r.links, peer.ID())
	}
}

// Receive implements p2p.Reactor. It runs on the peer's receive goroutine,
// so it only checks and stores; sending is left to the senders.
func (r *Reactor) Receive(e p2p.Envelope) {
	msg, ok := e.Message.(*mailboxv1.GossipMessage)
	if !ok || msg.Envelope == nil {
		r.invalid.Add(1)
		r.strike(e.Src, fmt.Errorf("%w: message %T carries no envelope", mailboxv1.ErrInvalidEnvelope, e.Message))
		return
	}
	r.received.Add(1)
	_, err := r.intake.Accept(r.ctx, msg.Envelope)
	switch {
	case err == nil:
		r.accepted.Add(1)
		r.forward(msg, e.Src.ID())
	case errors.Is(err, ErrDuplicate):
		r.duplicates.Add(1)
	case peerFault(err):
		r.invalid.Add(1)
		r.strike(e.Src, err)
	default:
		r.refused.Add(1)
		r.Logger.Debug("envelope from peer refused", "peer", e.Src.ID(), "err", err)
	}
}

// peerFault tells the errors no honest node can cause: it checks every
// envelope before forwarding it. Unknown senders, clock and rate errors
// may come from honest nodes that see another block or another time.
func peerFault(err error) bool {
	return errors.Is(err, mailboxv1.ErrInvalidEnvelope) || errors.Is(err, ErrBadSignature)
}

func (r *Reactor) strike(peer p2p.Peer, err error) {
	n := int64(1)
	if c, ok := peer.Get(peerStrikesKey).(*atomic.Int64); ok {
		n = c.Add(1)
	}
	r.Logger.Info("invalid envelope from peer", "peer", peer.ID(), "strikes", n, "err", err)
	if n >= int64(r.cfg.MaxStrikes) && r.Switch != nil {
		r.Switch.StopPeerForError(peer, fmt.Errorf("mailbox: %d invalid envelopes, the last: %w", n, err))
	}
}

// Relay implements Relay: it sends an envelope accepted from a client to
// every peer.
func (r *Reactor) Relay(e *mailboxv1.Envelope) {
	r.forward(&mailboxv1.GossipMessage{Envelope: e}, "")
}

// forward queues msg for every peer except the one it came from.
func (r *Reactor) forward(msg *mailboxv1.GossipMessage, except p2p.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, l := range r.links {
		if id == except {
			continue
		}
		select {
		case l.queue <- msg:
		default:
			r.dropped.Add(1)
			r.Logger.Debug("mailbox queue full; envelope not sent to peer", "peer", id)
		}
	}
}

func (r *Reactor) sendRoutine(l *peerLink) {
	defer r.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		case <-r.ctx.Done():
			return
		case msg := <-l.queue:
			r.send(l, msg)
		}
	}
}

// send hands msg to the peer's connection, retrying while the channel's
// send queue is full. It never blocks past a stop, unlike p2p.Peer.Send.
func (r *Reactor) send(l *peerLink, msg *mailboxv1.GossipMessage) {
	env := p2p.Envelope{ChannelID: mailboxv1.ChannelID, Message: msg}
	deadline := time.Now().Add(r.cfg.SendTimeout)
	wait := time.Millisecond
	for !l.peer.TrySend(env) {
		if !l.peer.IsRunning() || time.Now().After(deadline) {
			r.dropped.Add(1)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.stop:
			t.Stop()
			return
		case <-r.ctx.Done():
			t.Stop()
			return
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
	r.forwarded.Add(1)
}

// Stats returns the reactor's counters.
func (r *Reactor) Stats() ReactorStats {
	return ReactorStats{
		Received:   r.received.Load(),
		Accepted:   r.accepted.Load(),
		Duplicates: r.duplicates.Load(),
		Invalid:    r.invalid.Load(),
		Refused:    r.refused.Load(),
		Forwarded:  r.forwarded.Load(),
		Dropped:    r.dropped.Load(),
	}
}

// NumPeers returns the number of peers the reactor is sending to.
func (r *Reactor) NumPeers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.links)
}
