package call

import (
	"crypto/hpke"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleynet/parley/internal/ids"
)

// outboxSize bounds the signals queued for one peer; a full queue drops.
const outboxSize = 128

// peer is another member of the current roster. Fields without a comment
// are owned by Run's goroutine.
type peer struct {
	id      ids.DeviceRef
	ident   Member // as first seen; read by the media path, never changed
	member  Member
	ephKey  hpke.PublicKey
	offerer bool // this engine makes the offers
	conn    *conn
	cur     atomic.Pointer[conn] // conn, for other goroutines
	seq     uint64               // last seq sent
	out     chan outSignal
	gone    bool
	retryAt time.Time
	// keysEpoch is the newest epoch the peer said it holds the keys of.
	keysEpoch uint64
	// msgTokens and msgAt are the peer's message rate bucket (message.go).
	msgTokens float64
	msgAt     time.Time
	// early holds candidates that arrived before their session's offer.
	early map[SessionID][]remoteCandidate

	stats mediaCounters // atomic; kept across connections

	sinkMu     sync.Mutex
	sinks      map[MediaKind]*trackSink // live tracks' sinks, for the test hook
	relaySinks map[MediaKind]*trackSink // sinks of the frames that came through the relay

	heldMu sync.Mutex
	held   []heldFrame // relayed frames waiting for their signatures (relayhold.go)
}

type outSignal struct {
	to  Member
	key hpke.PublicKey
	sig Signal
}

// remoteCandidate is a trickled candidate waiting for its session's
// remote description, with the fingerprint it was signed with.
type remoteCandidate struct {
	line, fingerprint string
}

func (e *Engine) newPeer(m Member, key hpke.PublicKey) *peer {
	p := &peer{
		id:      m.id(),
		ident:   m,
		member:  m,
		ephKey:  key,
		offerer: offers(e.self, m.id()),
		out:     make(chan outSignal, outboxSize),
		early:   make(map[SessionID][]remoteCandidate),
		sinks:   make(map[MediaKind]*trackSink),

		relaySinks: make(map[MediaKind]*trackSink),
	}
	e.peers[p.id] = p
	e.outboxWG.Go(func() { e.runOutbox(p.out) })
	return p
}

// removePeer closes the peer's connection with a bye and its outbox.
func (e *Engine) removePeer(p *peer) {
	e.closeConn(p, true)
	e.closeRelaySinks(p)
	p.gone = true
	close(p.out)
	delete(e.peers, p.id)
}

// send fills in the envelope fields of s and queues it for p.
func (e *Engine) send(p *peer, s Signal) {
	if p.gone {
		return
	}
	p.seq++
	s.FromUser, s.FromDevice = e.self.User, e.self.Device
	s.ToUser, s.ToDevice = p.id.User, p.id.Device
	s.MeetingID = e.cfg.MeetingID
	s.Epoch = e.Epoch()
	s.Seq = p.seq
	s.DTLSFingerprint = e.fp
	select {
	case p.out <- outSignal{to: p.member, key: p.ephKey, sig: s}:
	default:
		e.sig.dropped.Add(1)
		e.log.Warnf("signal queue to %s full; %v dropped", p.id, s.Kind)
	}
}

// runOutbox seals and sends one peer's signals in order until the queue is
// closed, on its own goroutine so that a slow transport never stalls the
// loop.
func (e *Engine) runOutbox(out <-chan outSignal) {
	for m := range out {
		body, err := SealSignal(&m.sig, e.cfg.ChainID, e.cfg.DeviceKey, m.key)
		if err != nil {
			e.sig.sendFailed.Add(1)
			e.log.Errorf("seal %v to %s: %v", m.sig.Kind, m.to, err)
			continue
		}
		if err := e.cfg.Transport.Send(e.sendCtx, m.to, body); err != nil {
			e.sig.sendFailed.Add(1)
			e.log.Warnf("send %v to %s: %v", m.sig.Kind, m.to, err)
			continue
		}
		e.sig.sent.Add(1)
	}
}
