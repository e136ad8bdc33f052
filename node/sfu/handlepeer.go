package sfu

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// HandlePeer takes one message from the peer relay from (its transport
// ID). It does not wait on the network: links are negotiated on the
// relay's goroutines. Errors wrap ErrBadPeerMessage (the peer's fault: a
// transport may disconnect it) or ErrPeerLimit (dropped); a message about
// a meeting the relay does not serve is ignored without one. A relay
// without Config.Peers ignores everything.
func (r *Relay) HandlePeer(from string, msg []byte) error {
	c := r.cascade
	if c == nil {
		return nil
	}
	pm, err := parsePeerMessage(msg)
	if err == nil && from == "" {
		err = fmt.Errorf("%w: no peer ID", ErrBadPeerMessage)
	}
	if err != nil {
		r.stats.peerRefused.Add(1)
		return err
	}
	m := r.served(pm.meeting)
	now := r.cfg.Now()
	var act func()
	c.mu.Lock()
	p, err := c.peerLocked(from, now)
	if err == nil {
		switch pm.kind {
		case peerAnnounce:
			act, err = c.announceLocked(p, pm, m, now)
		case peerOffer:
			act, err = c.offerLocked(p, pm, m, now)
		default:
			act, err = c.answerLocked(p, pm, now)
		}
	}
	c.mu.Unlock()
	if err != nil {
		r.stats.peerRefused.Add(1)
		return err
	}
	r.stats.peerMessages.Add(1)
	if act != nil {
		act()
	}
	return nil
}

// PeerGone tells the relay that a peer relay went away: its links close
// and its members leave every meeting at once.
func (r *Relay) PeerGone(from string) {
	c := r.cascade
	if c == nil {
		return
	}
	c.mu.Lock()
	p := c.known[from]
	delete(c.known, from)
	var closers []func()
	if p != nil {
		closers = p.unlinkAllLocked()
	}
	c.mu.Unlock()
	for _, f := range closers {
		f()
	}
	if p != nil {
		r.log.Infof("peer relay %s gone", short(from))
	}
}

// peerLocked returns the state of peer id, made on its first message.
// When maxPeers are kept, a peer the relay keeps nothing for (no
// meeting, no link) makes room; when none does, id is refused.
func (c *cascade) peerLocked(id string, now time.Time) (*peerState, error) {
	if c.closed {
		return nil, ErrClosed
	}
	p := c.known[id]
	if p == nil {
		if len(c.known) >= maxPeers && !c.evictIdleLocked() {
			return nil, fmt.Errorf("%w: %d peer relays kept already", ErrPeerLimit, maxPeers)
		}
		p = &peerState{
			id:        id,
			announces: rate.NewLimiter(peerAnnounceRate, peerAnnounceBurst),
			signals:   rate.NewLimiter(peerSignalRate, peerSignalBurst),
			serving:   map[string]time.Time{},
			push:      map[string]*pushLink{},
			pull:      map[string]*pullLink{},
		}
		c.known[id] = p
	}
	p.lastSeen = now
	return p, nil
}

// evictIdleLocked forgets one peer the relay keeps nothing for; false
// when there is none.
func (c *cascade) evictIdleLocked() bool {
	for id, p := range c.known {
		if p.empty() {
			delete(c.known, id)
			return true
		}
	}
	return false
}

func (p *peerState) empty() bool { return len(p.serving)+len(p.push)+len(p.pull) == 0 }

// announceLocked takes a peer's announce. Only meetings the relay serves
// are remembered; a peer that announces one the relay did not know it
// served is answered with the relay's own announce at once, so that
// both know without waiting for the next round.
func (c *cascade) announceLocked(p *peerState, pm peerMsg, m *meeting, now time.Time) (func(), error) {
	if !p.announces.AllowN(now, 1) {
		return nil, fmt.Errorf("%w: peer %s announces more than %d a second", ErrPeerLimit, short(p.id), peerAnnounceRate)
	}
	key := string(pm.meeting)
	if !pm.serving {
		delete(p.serving, key)
		return joinFuncs(p.unlinkLocked(key)), nil
	}
	if m == nil {
		return nil, nil
	}
	if _, known := p.serving[key]; known {
		p.serving[key] = now
		return nil, nil
	}
	if len(p.serving) >= maxPeerMeetings {
		return nil, fmt.Errorf("%w: peer %s serves %d meetings with this relay already", ErrPeerLimit, short(p.id), maxPeerMeetings)
	}
	p.serving[key] = now
	reply := peerMsg{kind: peerAnnounce, meeting: m.id, serving: true}.encode()
	id := p.id
	return func() { c.peers.Send(id, reply) }, nil
}

// offerLocked takes a peer's offer of its push link: the relay's pull
// link for the meeting answers it, made anew when the link ID is new.
// Offers for meetings the relay does not serve with the peer are
// ignored.
func (c *cascade) offerLocked(p *peerState, pm peerMsg, m *meeting, now time.Time) (func(), error) {
	if !p.signals.AllowN(now, 1) {
		return nil, fmt.Errorf("%w: peer %s signals more than %d a second", ErrPeerLimit, short(p.id), peerSignalRate)
	}
	key := string(pm.meeting)
	if _, ok := p.serving[key]; !ok || m == nil {
		return nil, nil
	}
	var closers []func()
	l := p.pull[key]
	if l != nil && (l.id != pm.link || l.m != m) {
		closers = append(closers, l.closer("replaced by a new link"))
		l = nil
	}
	if l == nil {
		l = newPullLink(c, p.id, m, pm.link)
		p.pull[key] = l
	}
	start := l.queue(pm.sdp)
	return func() {
		for _, f := range closers {
			f()
		}
		if start && !c.r.spawn(l.run) {
			l.close("relay closing")
		}
	}, nil
}

// answerLocked takes a peer's answer to the relay's push link.
func (c *cascade) answerLocked(p *peerState, pm peerMsg, now time.Time) (func(), error) {
	if !p.signals.AllowN(now, 1) {
		return nil, fmt.Errorf("%w: peer %s signals more than %d a second", ErrPeerLimit, short(p.id), peerSignalRate)
	}
	l := p.push[string(pm.meeting)]
	if l == nil || l.id != pm.link || !l.takeAnswer() {
		return nil, nil
	}
	return func() {
		if !c.r.spawn(func() { l.apply(pm.sdp) }) {
			l.close("relay closing")
		}
	}, nil
}
