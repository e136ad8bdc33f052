package call

import (
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// Bounds of queued remote candidates.
const (
	maxQueuedCandidates = 64
	maxEarlySessions    = 4
)

// conn is one pion peer connection with a peer: one session. Fields
// without a comment are owned by Run's goroutine.
type conn struct {
	session       SessionID
	pc            *webrtc.PeerConnection
	remoteFP      string // normalised fingerprint the peer signed its SDP with
	haveRemote    bool
	queued        []remoteCandidate // before the remote description
	started       time.Time
	everConnected bool
	// downSince is when the connection last went from connected to
	// disconnected or failed; zero while it is up or before it was.
	downSince time.Time
	// restarting is set while this device's ICE restart offer waits for
	// its answer; restartedAt is when it was sent.
	restarting  bool
	restartedAt time.Time
	askedAt     time.Time   // when the answerer last asked for a restart
	connected   atomic.Bool // now; set by pion's callback
	closing     atomic.Bool // set before Close, silences the callbacks
	restarts    atomic.Uint64
	path        atomic.Pointer[Path]  // the selected candidate pair's
	bwe         cc.BandwidthEstimator // congestion controller; nil if none
}

// newConn makes a peer connection for session with p. The answerer adds
// its tracks only after the offer, so that they take the offered
// transceivers.
func (e *Engine) newConn(p *peer, session SessionID, addTracks bool) (*conn, error) {
	servers := e.iceServers()
	if e.cfg.Reach.RelayOnly && !hasTURN(servers) {
		e.log.Warnf("relay-only, but no TURN server yet: the connection with %s waits for an ICE restart with one", p.id)
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{
		ICEServers:         servers,
		ICETransportPolicy: e.icePolicy(),
		Certificates:       []webrtc.Certificate{e.cert},
		BundlePolicy:       webrtc.BundlePolicyMaxBundle,
	})
	if err != nil {
		return nil, fmt.Errorf("peer connection with %s: %w", p.id, err)
	}
	c := &conn{session: session, pc: pc, started: time.Now(), bwe: e.bwes.Take(pc.ID())}
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(pair *webrtc.ICECandidatePair) {
		path := pathOf(pair)
		c.path.Store(&path)
		if !c.closing.Load() {
			e.log.Infof("session %s with %s: %s", session, p.id, path)
		}
	})
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil || c.closing.Load() {
			return
		}
		e.events.push(event{kind: evCandidate, peer: p, conn: c, candidate: cand.ToJSON().Candidate})
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		e.log.Debugf("session %s with %s: ICE %s", session, p.id, s)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		e.log.Debugf("session %s with %s: %s", session, p.id, s)
		c.connected.Store(s == webrtc.PeerConnectionStateConnected)
		if !c.closing.Load() {
			e.events.push(event{kind: evConnState, peer: p, conn: c, state: s})
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		e.receiveTrack(p, c, t)
	})
	if addTracks {
		if err := e.addTracks(p, c); err != nil {
			e.dropConn(c)
			return nil, err
		}
	}
	return c, nil
}

// addTracks adds this device's tracks (mediaKinds) and reads their RTCP
// (readRTCP): the interceptors (NACK, reports, round-trip times,
// congestion control) and key-frame requests.
func (e *Engine) addTracks(p *peer, c *conn) error {
	for _, kind := range mediaKinds {
		s, err := c.pc.AddTrack(e.tracks[kind])
		if err != nil {
			return fmt.Errorf("add %v track: %w", kind, err)
		}
		e.wg.Go(func() { e.readRTCP(&p.stats, kind, s, "") })
	}
	return nil
}

// setConn makes c p's current connection.
func (p *peer) setConn(c *conn) {
	p.conn = c
	p.cur.Store(c)
}

// closeConn closes p's current connection, telling the peer when bye.
func (e *Engine) closeConn(p *peer, bye bool) {
	c := p.conn
	if c == nil {
		return
	}
	p.setConn(nil)
	if bye {
		e.send(p, Signal{Kind: KindBye, Session: c.session})
	}
	e.dropConn(c)
}

// dropConn closes c's peer connection on a goroutine the engine waits for:
// a graceful close waits for pion's own goroutines.
func (e *Engine) dropConn(c *conn) {
	c.closing.Store(true)
	c.connected.Store(false)
	e.wg.Go(func() {
		if err := c.pc.GracefulClose(); err != nil {
			e.log.Debugf("close session %s: %v", c.session, err)
		}
	})
}

// startOffer opens a new session with p and sends its offer.
func (e *Engine) startOffer(p *peer) {
	p.retryAt = time.Time{}
	if e.onRelay() && (e.relayUp() != nil || len(e.view.Load().cur.members) > MaxMembers) {
		return // the relay carries the call; a mesh only while it is down and the roster fits one
	}
	var s SessionID
	_, _ = rand.Read(s[:])
	c, err := e.newConn(p, s, true)
	if err == nil {
		var offer webrtc.SessionDescription
		if offer, err = c.pc.CreateOffer(nil); err == nil {
			err = c.pc.SetLocalDescription(offer)
		}
		if err == nil {
			p.setConn(c)
			e.send(p, Signal{Kind: KindOffer, Session: s, SDP: offer.SDP})
			return
		}
		e.dropConn(c)
	}
	e.log.Errorf("offer to %s: %v", p.id, err)
	p.retryAt = time.Now().Add(failRetry)
}

// addRemoteCandidate adds a signed candidate once its fingerprint is
// checked against the session's.
func (e *Engine) addRemoteCandidate(c *conn, rc remoteCandidate) error {
	if fp, ok := normalizeFingerprint(rc.fingerprint); !ok || fp != c.remoteFP {
		return fmt.Errorf("%w: candidate signed with %q, session %s uses %q", ErrFingerprintMismatch, rc.fingerprint, c.session, c.remoteFP)
	}
	if err := c.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: rc.line}); err != nil {
		return fmt.Errorf("%w: candidate %q: %v", ErrMalformedSignal, rc.line, err)
	}
	return nil
}

// restartICE restarts ICE on p's connection, keeping its session: fresh
// ICE servers (relay credentials expire), new local candidates, a new
// offer. Only the offering member restarts; the other asks it to
// (KindRestart). A restart gets restartResend to work before the next:
// its offer or answer may have been lost, or the path may still be down.
// An urgent one (the addresses changed, the peer asked) goes at once
// unless a restart is waiting for its answer.
func (e *Engine) restartICE(p *peer, why string, urgent bool) {
	c := p.conn
	now := time.Now()
	switch {
	case c == nil || !p.offerer || !c.haveRemote:
		return
	case now.Sub(c.restartedAt) < restartResend && (c.restarting || !urgent):
		return
	}
	e.freshICEServers(p, c)
	offer, err := c.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err == nil {
		err = c.pc.SetLocalDescription(offer)
	}
	if err != nil {
		e.log.Errorf("ICE restart with %s: %v; starting a new session", p.id, err)
		e.closeConn(p, true)
		e.startOffer(p)
		return
	}
	// The pion calls above may take a while (pion's agent answers from
	// its own loop): the resend counts from now, not from the start.
	c.restarting, c.restartedAt = true, time.Now()
	c.restarts.Add(1)
	e.log.Infof("session %s with %s: ICE restart (%s)", c.session, p.id, why)
	e.send(p, Signal{Kind: KindOffer, Session: c.session, SDP: offer.SDP})
}

// freshICEServers gives c the latest ICE servers for its next gathering.
// The configuration carries nothing else: pion writes every field it is
// given without a lock, and Stats reads the certificates concurrently.
func (e *Engine) freshICEServers(p *peer, c *conn) {
	if err := c.pc.SetConfiguration(webrtc.Configuration{ICEServers: e.iceServers(), ICETransportPolicy: e.icePolicy()}); err != nil {
		e.log.Warnf("session %s with %s: new ICE servers: %v", c.session, p.id, err)
	}
}

// askRestart asks the offering peer to restart ICE on the session, at
// most once per restartResend.
func (e *Engine) askRestart(p *peer) {
	c := p.conn
	if c == nil || p.offerer || !c.haveRemote || time.Since(c.askedAt) < restartResend {
		return
	}
	c.askedAt = time.Now()
	e.send(p, Signal{Kind: KindRestart, Session: c.session})
}

func hasTURN(servers []webrtc.ICEServer) bool {
	for _, s := range servers {
		for _, u := range s.URLs {
			if len(u) > 5 && (u[:5] == "turn:" || u[:6] == "turns:") {
				return true
			}
		}
	}
	return false
}

// flushCandidates adds the candidates queued before the remote description.
func (e *Engine) flushCandidates(c *conn, queued []remoteCandidate) {
	for _, rc := range queued {
		if err := e.addRemoteCandidate(c, rc); err != nil {
			e.sig.reject(err)
		}
	}
}
