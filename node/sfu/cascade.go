package sfu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Peers is the relay's way to the relays of other nodes (the cascade,
// doc.go). Peer IDs are the transport's — CometBFT node IDs in parleyd —
// and the transport authenticates them: the relay keys all it keeps
// about a peer by them. Neither call may block: they queue or drop.
type Peers interface {
	// Send queues msg for one peer; false when it could not.
	Send(peer string, msg []byte) bool
	// Broadcast queues msg for every peer.
	Broadcast(msg []byte)
}

// Timing and bounds of the cascade. Everything a peer can make the relay
// keep is bounded here, by the relay's own meetings, or by both.
const (
	// announceEvery: how often the relay announces each meeting it
	// serves; servingTTL: how long a peer's announce holds.
	announceEvery = 2 * time.Second
	announceTicks = uint64(announceEvery / tickEvery)
	servingTTL    = 3*announceEvery + time.Second
	// answerTimeout: a push link whose offer is not answered this long
	// is dropped (and made anew at the next round, if still wanted).
	answerTimeout = 10 * time.Second
	// gatherTimeout bounds the ICE gathering of a link's first offer or
	// answer.
	gatherTimeout = 10 * time.Second
	// maxPeers: peer relays the relay keeps state for.
	maxPeers = 256
	// maxPeerMeetings: meetings one peer is known to serve with the
	// relay, and so push and pull links with it each way.
	maxPeerMeetings = 1024
	// Messages a peer may send: announces (one per meeting it serves
	// every announceEvery), and offers and answers.
	peerAnnounceRate, peerAnnounceBurst = 500, 1000
	peerSignalRate, peerSignalBurst     = 20, 40
	// maxBridgeTracks: tracks a link carries; maxBridgeMLines: m-lines of
	// its SDP, those of tracks that ended included (a push link with more
	// is made anew).
	maxBridgeTracks = 96
	maxBridgeMLines = 192
	// bridgeOpaqueRate, bridgeOpaqueBurst: opaque messages a pull link
	// passes on per second. The peer relay holds each of its members to
	// opaqueRate already; this bounds the link as a whole.
	bridgeOpaqueRate, bridgeOpaqueBurst = 2000, 4000
	// bridgeDataLabel is a push link's data channel.
	bridgeDataLabel = "parley-cascade"
	// drainDelay: how long a link's data channel outlives its media, and
	// a closing relay's sessions their media to peer relays. A frame's
	// signature leaves its sender within a batch interval and a tick of
	// the frame (client/framesig, 250 ms each), and must reach every
	// receiver before MissingAfter (1.5 s) or the receiver cuts the
	// sender for the epoch.
	drainDelay = time.Second
)

// cascade is the relay's part in the mesh of relays: what it announced,
// what each peer announced, and its links with them. Lock order:
// cascade.mu, then a link's mu; never the other way round, and no pion
// call under either.
type cascade struct {
	r     *Relay
	peers Peers

	mu        sync.Mutex
	closed    bool
	known     map[string]*peerState
	announced map[string]*meeting // meetings announced as served, by key
}

// peerState is what the relay keeps about one peer relay.
type peerState struct {
	id        string
	announces *rate.Limiter
	signals   *rate.Limiter
	lastSeen  time.Time
	// serving: meetings the relay serves that the peer announced serving,
	// with the time of its last announce.
	serving map[string]time.Time
	push    map[string]*pushLink // the relay's links to the peer, by meeting
	pull    map[string]*pullLink // the peer's links to the relay, by meeting
}

func newCascade(r *Relay, peers Peers) *cascade {
	return &cascade{r: r, peers: peers, known: map[string]*peerState{}, announced: map[string]*meeting{}}
}

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

// tick, on the relay's clock: announce the meetings served (new ones at
// once, all every announceEvery, and those no longer served once),
// forget stale announces, and bring the links in line — a push link for
// each meeting served by the relay and a peer, none for any other, and a
// new offer where the relay's own sources changed.
func (c *cascade) tick(now time.Time, n uint64) {
	served := c.r.servedMeetings()
	var broadcast [][]byte
	var closers []func()
	var starts []*pushLink
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	for k, m := range served {
		if c.announced[k] != m || n%announceTicks == 0 {
			broadcast = append(broadcast, peerMsg{kind: peerAnnounce, meeting: m.id, serving: true}.encode())
		}
	}
	for k, m := range c.announced {
		if served[k] == nil {
			broadcast = append(broadcast, peerMsg{kind: peerAnnounce, meeting: m.id}.encode())
		}
	}
	c.announced = served
	for id, p := range c.known {
		for k, at := range p.serving {
			if served[k] == nil || now.Sub(at) > servingTTL {
				delete(p.serving, k)
			}
		}
		for k, l := range p.push {
			_, ok := p.serving[k]
			if !ok || l.m != served[k] || l.stale(now) {
				delete(p.push, k)
				closers = append(closers, l.closer("no longer wanted or not answered"))
			}
		}
		for k, l := range p.pull {
			if _, ok := p.serving[k]; !ok || l.m != served[k] {
				delete(p.pull, k)
				closers = append(closers, l.closer("no longer wanted"))
			}
		}
		for k := range p.serving {
			l := p.push[k]
			if l == nil {
				l = newPushLink(c, id, served[k])
				p.push[k] = l
			}
			if l.claimStep() {
				starts = append(starts, l)
			}
		}
		if p.empty() && now.Sub(p.lastSeen) > servingTTL {
			delete(c.known, id)
		}
	}
	c.mu.Unlock()
	for _, b := range broadcast {
		c.peers.Broadcast(b)
	}
	for _, f := range closers {
		f()
	}
	for _, l := range starts {
		if !c.r.spawn(l.step) {
			l.close("relay closing")
		}
	}
}

// dropPush forgets and closes a push link that failed.
func (c *cascade) dropPush(l *pushLink, why string) {
	c.mu.Lock()
	if p := c.known[l.peer]; p != nil && p.push[l.m.key] == l {
		delete(p.push, l.m.key)
	}
	c.mu.Unlock()
	l.close(why)
}

// dropPull forgets and closes a pull link that failed.
func (c *cascade) dropPull(l *pullLink, why string) {
	c.mu.Lock()
	if p := c.known[l.peer]; p != nil && p.pull[l.m.key] == l {
		delete(p.pull, l.m.key)
	}
	c.mu.Unlock()
	l.close(why)
}

// bridgeOpaque sends an opaque message of the relay's own member to the
// meeting's push links, the peer relays passing it to their own sessions
// only. Messages that came over a link never come here.
func (c *cascade) bridgeOpaque(m *meeting, member string, data []byte) {
	c.mu.Lock()
	var links []*pushLink
	for _, p := range c.known {
		if l := p.push[m.key]; l != nil && l.m == m {
			links = append(links, l)
		}
	}
	c.mu.Unlock()
	if len(links) == 0 {
		return
	}
	wrapped := wrapBridged(member, data)
	for _, l := range links {
		if l.sendOpaque(wrapped) {
			c.r.stats.opaqueBridged.Add(1)
		} else {
			c.r.stats.opaqueDropped.Add(1)
		}
	}
}

// drain stops the media of every push link, for Relay.Close, and
// reports whether there was any.
func (c *cascade) drain() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	any := false
	for _, p := range c.known {
		for _, l := range p.push {
			l.stopMedia()
			any = true
		}
	}
	return any
}

// closeAll closes every link, for Relay.Close.
func (c *cascade) closeAll() {
	c.mu.Lock()
	c.closed = true
	var closers []func()
	for id, p := range c.known {
		closers = append(closers, p.unlinkAllLocked()...)
		delete(c.known, id)
	}
	c.mu.Unlock()
	for _, f := range closers {
		f()
	}
}

// stats fills the cascade's part of Stats.
func (c *cascade) stats(st *Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st.Peers = len(c.known)
	for _, p := range c.known {
		st.PeerMeetings += len(p.serving)
		st.PushLinks += len(p.push)
		st.PullLinks += len(p.pull)
	}
}

// unlinkLocked forgets the peer's links of one meeting and returns what
// closes them.
func (p *peerState) unlinkLocked(key string) []func() {
	var out []func()
	if l := p.push[key]; l != nil {
		delete(p.push, key)
		out = append(out, l.closer("the peer stopped serving the meeting"))
	}
	if l := p.pull[key]; l != nil {
		delete(p.pull, key)
		out = append(out, l.closer("the peer stopped serving the meeting"))
	}
	return out
}

// unlinkAllLocked forgets all the peer's links and returns what closes
// them.
func (p *peerState) unlinkAllLocked() []func() {
	var out []func()
	for k := range p.push {
		out = append(out, p.unlinkLocked(k)...)
	}
	for k := range p.pull {
		out = append(out, p.unlinkLocked(k)...)
	}
	return out
}

func joinFuncs(fs []func()) func() {
	if len(fs) == 0 {
		return nil
	}
	return func() {
		for _, f := range fs {
			f()
		}
	}
}

// newLinkID picks a link ID; 0 is never one.
func newLinkID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// short is a peer ID shortened for logs.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
