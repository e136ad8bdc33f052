package call

import (
	"context"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Timing of the loop.
const (
	tickInterval = 250 * time.Millisecond
	// byeTimeout bounds how long shutdown waits for byes to leave.
	byeTimeout = time.Second
	// failRetry: an offerer starts a new session this long after its
	// connection failed or the peer said bye.
	failRetry = time.Second
	byeRetry  = 2 * time.Second
	// Bounds of signals held for an epoch this device has not seen yet.
	maxPending = 64
	pendingTTL = 10 * time.Second
)

// eventKind says what happened outside Run's goroutine.
type eventKind int

const (
	evRoster    eventKind = iota + 1 // SetEpoch installed a new roster
	evCandidate                      // pion gathered a local ICE candidate
	evConnState                      // a connection changed state
)

type event struct {
	kind      eventKind
	peer      *peer
	conn      *conn
	candidate string
	state     webrtc.PeerConnectionState
}

// eventQueue hands events from pion's callbacks and SetEpoch to Run's
// goroutine. push never blocks, so a callback can never stall pion while
// the loop is inside a pion call.
type eventQueue struct {
	mu    sync.Mutex
	items []event
	ready chan struct{}
}

func newEventQueue() eventQueue { return eventQueue{ready: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) drain() []event {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// pendingSignal is an opened signal from a device this engine does not
// know yet, which claims an epoch newer than the current one: the sender
// may have learnt of the epoch first. It is retried after SetEpoch and
// refused after pendingTTL.
type pendingSignal struct {
	in       Inbound
	opened   *opened
	deadline time.Time
}

// loop is the engine's only mutator of peers, connections and signalling
// state.
func (e *Engine) loop(ctx context.Context) {
	inbound := e.cfg.Transport.Receive()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	e.reconcile()
	for {
		select {
		case <-ctx.Done():
			return
		case in, ok := <-inbound:
			if !ok {
				inbound = nil
				continue
			}
			e.handleInbound(in)
		case <-e.events.ready:
			for _, ev := range e.events.drain() {
				e.handleEvent(ev)
			}
		case now := <-tick.C:
			e.housekeep(now)
		}
	}
}

func (e *Engine) handleEvent(ev event) {
	switch ev.kind {
	case evRoster:
		e.reconcile()
	case evCandidate:
		if ev.peer.conn == ev.conn && !ev.peer.gone {
			e.send(ev.peer, Signal{Kind: KindCandidate, Session: ev.conn.session, Candidate: ev.candidate})
		}
	case evConnState:
		e.connState(ev.peer, ev.conn, ev.state)
	}
}

// reconcile brings the peers in line with the current roster: removed
// members are closed (with a bye), new ones connected, and held signals
// retried.
func (e *Engine) reconcile() {
	v := e.view.Load()
	if v == nil || v == e.applied {
		return
	}
	e.applied = v
	for id, p := range e.peers {
		if _, _, ok := v.cur.lookup(id); !ok {
			e.removePeer(p)
		}
	}
	for i, m := range v.cur.members {
		id := m.id()
		if id == e.self {
			continue
		}
		if p := e.peers[id]; p != nil {
			p.member, p.ephKey = m, v.cur.ephKeys[i]
			continue
		}
		p := e.newPeer(m, v.cur.ephKeys[i])
		if p.offerer {
			e.startOffer(p)
		}
	}
	e.publishPeers()
	held := e.pending
	e.pending = nil
	for _, ps := range held {
		e.processOpened(ps.in, ps.opened, ps.deadline)
	}
}

// publishPeers makes the current peers visible to the media path and Stats.
func (e *Engine) publishPeers() {
	list := make([]*peer, 0, len(e.peers))
	for _, p := range e.peers {
		list = append(list, p)
	}
	e.peerList.Store(&list)
}

// housekeep restarts connections that did not come up, refuses held
// signals past their time and erases expired keys.
func (e *Engine) housekeep(now time.Time) {
	e.reconcile()
	for _, p := range e.peers {
		c := p.conn
		switch {
		case c == nil && p.offerer && !p.retryAt.IsZero() && !now.Before(p.retryAt):
			e.startOffer(p)
		case c != nil && !c.everConnected && now.Sub(c.started) > e.cfg.ReconnectTimeout:
			e.log.Warnf("session %s with %s not up after %v; closing", c.session, p.id, e.cfg.ReconnectTimeout)
			e.closeConn(p, true)
			if p.offerer {
				e.startOffer(p)
			}
		}
	}
	kept := e.pending[:0]
	for _, ps := range e.pending {
		if now.After(ps.deadline) {
			e.sig.reject(errUnknownSender(ps.opened.signal))
			continue
		}
		kept = append(kept, ps)
	}
	clear(e.pending[len(kept):])
	e.pending = kept
	e.keyring.Sweep()
}

// connState reacts to a connection's state: a failed or closed one is
// dropped, and the offerer tries again shortly.
func (e *Engine) connState(p *peer, c *conn, s webrtc.PeerConnectionState) {
	if p.conn != c || p.gone {
		return
	}
	switch s {
	case webrtc.PeerConnectionStateConnected:
		c.everConnected = true
		e.log.Infof("session %s with %s connected", c.session, p.id)
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		e.log.Warnf("session %s with %s %s", c.session, p.id, s)
		e.closeConn(p, true)
		if p.offerer {
			p.retryAt = time.Now().Add(failRetry)
		}
	}
}
