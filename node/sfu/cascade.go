package sfu

import (
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
