package call

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/parleynet/parley/internal/ids"
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
	// restartResend: an ICE restart whose answer has not come, or a
	// request for one, is sent again after this long (a signal lost while
	// the network changed).
	restartResend = 2 * time.Second
	// Bounds of signals held for an epoch this device has not seen yet.
	maxPending = 64
	pendingTTL = 10 * time.Second
)

// eventKind says what happened outside Run's goroutine.
type eventKind int

const (
	evRoster       eventKind = iota + 1 // SetEpoch installed a new roster
	evCandidate                         // pion gathered a local ICE candidate
	evConnState                         // a connection changed state
	evNetwork                           // RestartICE: restart ICE on every session
	evAddrsChanged                      // this device's addresses changed
	evMessage                           // SendMessage: a message to every member
	evRelayDialed                       // a relay dial ended
	evRelayState                        // the relay link changed state
	evRelayReady                        // the relay link's data channel opened
)

type event struct {
	kind      eventKind
	peer      *peer
	conn      *conn
	candidate string
	state     webrtc.PeerConnectionState
	body      string // evMessage
	link      *relayLink
	err       error
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
			cand := ev.candidate
			if e.cfg.Reach.RelayOnly {
				cand = redactRelated(cand)
			}
			e.send(ev.peer, Signal{Kind: KindCandidate, Session: ev.conn.session, Candidate: cand})
		}
	case evConnState:
		e.connState(ev.peer, ev.conn, ev.state)
	case evNetwork:
		e.networkChanged()
	case evAddrsChanged:
		e.addrsChanged()
	case evMessage:
		e.sendMessage(ev.body)
	case evRelayDialed:
		e.relayDialed(ev.link, ev.err)
	case evRelayState:
		e.linkState(ev.link, ev.state)
	case evRelayReady:
		e.relayReady(ev.link)
	}
}

// relatedRE finds a candidate's related address and port (RFC 8839): for
// a relay candidate, the local socket the allocation was made from.
var relatedRE = regexp.MustCompile(` raddr \S+ rport \d+`)

// redactRelated blanks a candidate's related address, as JSEP asks of a
// relay-only agent: the peer needs only the relay's address.
func redactRelated(cand string) string {
	return relatedRE.ReplaceAllLiteralString(cand, " raddr 0.0.0.0 rport 0")
}

// networkChanged restarts ICE on every connection (or asks the offering
// peer to) at once, keeping the sessions: RestartICE, for a caller that
// knows the path changed.
func (e *Engine) networkChanged() {
	for _, p := range e.peers {
		if p.offerer {
			e.restartICE(p, "this device's addresses changed", true)
		} else {
			e.askRestart(p)
		}
	}
}

// addrsChanged replaces every session at once when this device's own
// addresses changed: the offerer closes it (with a bye) and offers a new
// one, the answerer closes it with a bye, on which the offerer offers
// again after byeRetry. Not an ICE restart: pion's ICE agent sends its
// checks from the loop that every call on the connection waits for, and a
// check through a TURN allocation made from the lost address blocks that
// loop on the TURN client's transaction (its retransmissions: 13 to 31 s
// in the NAT test), so the restart's own calls would wait as long. A new
// connection has its own agent; the old one closes on a goroutine of its
// own and is never called again.
func (e *Engine) addrsChanged() {
	for _, p := range e.peers {
		if p.conn == nil {
			continue
		}
		e.log.Infof("session %s with %s: this device's addresses changed; replacing the session", p.conn.session, p.id)
		p.stats.reconnects.Add(1)
		e.closeConn(p, true)
		if p.offerer {
			e.startOffer(p)
		}
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
	e.steerTransport()
	e.announceKeys()
	held := e.pending
	e.pending = nil
	for _, ps := range held {
		e.processOpened(ps.in, ps.opened, ps.deadline)
	}
}

// publishPeers makes the current peers visible to the media path and Stats.
func (e *Engine) publishPeers() {
	list := make([]*peer, 0, len(e.peers))
	index := make(map[ids.DeviceRef]*peer, len(e.peers))
	for id, p := range e.peers {
		list = append(list, p)
		index[id] = p
	}
	e.peerList.Store(&list)
	e.peerIndex.Store(&index)
}

// housekeep restarts connections that did not come up, or did not come
// back after going down, resends ICE restarts that got no answer,
// refuses held signals past their time and erases expired keys.
func (e *Engine) housekeep(now time.Time) {
	e.reconcile()
	for _, p := range e.peers {
		c := p.conn
		switch {
		case c == nil && p.offerer && !p.retryAt.IsZero() && !now.Before(p.retryAt):
			e.startOffer(p)
		case c == nil:
		case !c.everConnected && now.Sub(c.started) > e.cfg.ReconnectTimeout,
			!c.downSince.IsZero() && now.Sub(c.downSince) > e.cfg.ReconnectTimeout:
			e.log.Warnf("session %s with %s not up after %v; closing", c.session, p.id, e.cfg.ReconnectTimeout)
			e.closeConn(p, true)
			if p.offerer {
				e.startOffer(p)
			}
		case !c.downSince.IsZero() && p.offerer:
			e.restartICE(p, "still down", false)
		case !c.downSince.IsZero():
			e.askRestart(p)
		case c.restarting && p.offerer:
			e.restartICE(p, "no answer to the restart", false)
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
	if e.cfg.MediaRelay != nil {
		e.checkRelay(now)
		e.flushSignatures()
		for _, c := range e.relay.sweepSignatures() {
			who := fmt.Sprintf("KID %d", c.KID)
			if p := e.senderOf(c.KID); p != nil {
				who = p.id.String()
			}
			msg := fmt.Sprintf("epoch %d, %s: %v", c.Epoch, who, c.Reason)
			if c.Held {
				msg += " (held: its frames play only once verified)"
			}
			e.log.Warnf("relay: %s", msg)
			e.noteCut(msg)
		}
		e.settleHeldAll()
	}
}

// connState reacts to a connection's state: a disconnected one restarts
// ICE (the offerer) or asks for it (the answerer); a failed or closed one
// is dropped, and the offerer tries again shortly.
func (e *Engine) connState(p *peer, c *conn, s webrtc.PeerConnectionState) {
	if p.conn != c || p.gone {
		return
	}
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if !c.downSince.IsZero() {
			e.log.Infof("session %s with %s back after %v", c.session, p.id, time.Since(c.downSince).Round(time.Millisecond))
		}
		c.everConnected, c.downSince = true, time.Time{}
		e.log.Infof("session %s with %s connected", c.session, p.id)
	case webrtc.PeerConnectionStateDisconnected:
		if c.everConnected && c.downSince.IsZero() {
			c.downSince = time.Now()
		}
		e.log.Warnf("session %s with %s disconnected", c.session, p.id)
		if p.offerer {
			e.restartICE(p, "disconnected", true)
		} else {
			e.askRestart(p)
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		e.log.Warnf("session %s with %s %s", c.session, p.id, s)
		e.closeConn(p, true)
		if p.offerer {
			p.retryAt = time.Now().Add(failRetry)
		}
	}
}
