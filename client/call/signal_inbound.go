package call

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/internal/ids"
)

// handleInbound opens, authenticates and acts on one sealed signal. Every
// refusal is counted in SignalStats by reason.
func (e *Engine) handleInbound(in Inbound) {
	e.reconcile()
	o, err := e.openInbound(in.Body)
	if err != nil {
		e.sig.reject(err)
		return
	}
	e.processOpened(in, o, time.Now().Add(pendingTTL))
}

func errUnknownSender(s *Signal) error {
	return fmt.Errorf("%w: %s/%s", ErrUnknownSender, s.FromUser, s.FromDevice)
}

// processOpened authenticates an opened signal against the current roster
// or holds it until deadline if its sender may be in an epoch not yet set.
func (e *Engine) processOpened(in Inbound, o *opened, deadline time.Time) {
	s := o.signal
	from := ids.DeviceRef{User: s.FromUser, Device: s.FromDevice}
	// The roster the peers were reconciled to, not a newer one SetEpoch
	// may have stored since: the signal's peer must exist.
	var cur *roster
	if e.applied != nil {
		cur = e.applied.cur
	}
	m, _, ok := cur.lookup(from)
	if !ok {
		if (cur == nil || s.Epoch > cur.number) && len(e.pending) < maxPending {
			e.pending = append(e.pending, &pendingSignal{in: in, opened: o, deadline: deadline})
			return
		}
		e.sig.reject(errUnknownSender(s))
		return
	}
	if err := o.verify(e.cfg.ChainID, m.DevicePub); err != nil {
		e.sig.reject(err)
		return
	}
	if err := e.accept(in, s, cur); err != nil {
		e.log.Warnf("refused %v from %s: %v", s.Kind, from, err)
		e.sig.reject(err)
		return
	}
	e.sig.accepted.Add(1)
}

// accept checks an authenticated signal's addressing, epoch, replay and
// fingerprint, and acts on it.
func (e *Engine) accept(in Inbound, s *Signal, cur *roster) error {
	from := ids.DeviceRef{User: s.FromUser, Device: s.FromDevice}
	switch {
	case s.ToUser != e.self.User || s.ToDevice != e.self.Device:
		return fmt.Errorf("%w: %v from %s is for %s/%s", ErrMisaddressed, s.Kind, from, s.ToUser, s.ToDevice)
	case !bytes.Equal(s.MeetingID, e.cfg.MeetingID):
		return fmt.Errorf("%w: %v from %s is for meeting %x", ErrMisaddressed, s.Kind, from, s.MeetingID)
	case (in.FromUser != "" || in.FromDevice != "") && (in.FromUser != s.FromUser || in.FromDevice != s.FromDevice):
		return fmt.Errorf("%w: %v signed by %s came from %s/%s", ErrMisaddressed, s.Kind, from, in.FromUser, in.FromDevice)
	case from == e.self:
		return fmt.Errorf("%w: %v from this device itself", ErrMisaddressed, s.Kind)
	case cur.number >= 2 && s.Epoch < cur.number-1:
		return fmt.Errorf("%w: %v from %s of epoch %d, current is %d", ErrStaleSignal, s.Kind, from, s.Epoch, cur.number)
	}
	if err := e.replay.check(from, s.Session, s.Seq); err != nil {
		return err
	}
	var fp string
	if s.Kind == KindOffer || s.Kind == KindAnswer {
		var err error
		if fp, err = checkSDPFingerprint(s.DTLSFingerprint, s.SDP); err != nil {
			return err
		}
	}
	e.replay.accept(from, s.Session, s.Seq)
	e.log.Debugf("%s: %v from %s, session %s, seq %d", e.self, s.Kind, from, s.Session, s.Seq)
	p := e.peers[from]
	if p == nil {
		return fmt.Errorf("%w: no peer for %s", ErrUnexpectedSignal, from)
	}
	switch s.Kind {
	case KindOffer:
		return e.onOffer(p, s, fp)
	case KindAnswer:
		return e.onAnswer(p, s, fp)
	case KindCandidate:
		return e.onCandidate(p, s)
	case KindRestart:
		return e.onRestart(p, s)
	case KindKeys:
		e.onKeys(p, s)
		return nil
	case KindMessage:
		e.onMessage(p, s)
		return nil
	default:
		e.onBye(p, s)
		return nil
	}
}

// onOffer answers a peer's new session, replacing any older one, or an
// ICE restart of the current session (an offer with its session ID).
func (e *Engine) onOffer(p *peer, s *Signal, fp string) error {
	if p.offerer {
		return fmt.Errorf("%w: offer from %s, which answers this device", ErrUnexpectedSignal, p.id)
	}
	if c := p.conn; c != nil && c.session == s.Session {
		return e.onRestartOffer(p, c, s, fp)
	}
	if p.conn != nil {
		e.closeConn(p, false) // the offerer has abandoned it
	}
	c, err := e.newConn(p, s.Session, false)
	if err != nil {
		return err
	}
	c.remoteFP = fp
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
		e.dropConn(c)
		return fmt.Errorf("%w: offer from %s: %v", ErrMalformedSignal, p.id, err)
	}
	c.haveRemote = true
	if err := e.addTracks(p, c); err != nil {
		e.dropConn(c)
		return fmt.Errorf("answer to %s: %w", p.id, err)
	}
	answer, err := e.answer(c)
	if err != nil {
		e.dropConn(c)
		return fmt.Errorf("answer to %s: %w", p.id, err)
	}
	p.setConn(c)
	e.send(p, Signal{Kind: KindAnswer, Session: s.Session, SDP: answer})
	early := p.early[s.Session]
	clear(p.early)
	e.flushCandidates(c, early)
	return nil
}

// onRestartOffer answers an ICE restart of the current session: the same
// DTLS certificate (the session keeps its fingerprint), new ICE
// credentials; pion regathers, with fresh ICE servers.
func (e *Engine) onRestartOffer(p *peer, c *conn, s *Signal, fp string) error {
	if !c.haveRemote {
		return fmt.Errorf("%w: second offer for session %s before its answer", ErrUnexpectedSignal, s.Session)
	}
	if fp != c.remoteFP {
		return fmt.Errorf("%w: restart of session %s signed with %q, the session uses %q", ErrFingerprintMismatch, s.Session, fp, c.remoteFP)
	}
	e.freshICEServers(p, c)
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
		return fmt.Errorf("%w: restart offer from %s: %v", ErrMalformedSignal, p.id, err)
	}
	answer, err := e.answer(c)
	if err != nil {
		return fmt.Errorf("answer to %s's restart: %w", p.id, err)
	}
	c.restarts.Add(1)
	e.log.Infof("session %s with %s: ICE restart answered", c.session, p.id)
	e.send(p, Signal{Kind: KindAnswer, Session: s.Session, SDP: answer})
	return nil
}

func (e *Engine) answer(c *conn) (string, error) {
	a, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	if err := c.pc.SetLocalDescription(a); err != nil {
		return "", err
	}
	return a.SDP, nil
}

// onAnswer completes the session this engine offered, or its ICE restart.
func (e *Engine) onAnswer(p *peer, s *Signal, fp string) error {
	c := p.conn
	switch {
	case !p.offerer:
		return fmt.Errorf("%w: answer from %s, which offers to this device", ErrUnexpectedSignal, p.id)
	case c == nil || c.session != s.Session:
		return fmt.Errorf("%w: answer from %s for session %s, which is not open", ErrUnexpectedSignal, p.id, s.Session)
	case c.haveRemote && !c.restarting:
		return fmt.Errorf("%w: second answer for session %s", ErrUnexpectedSignal, s.Session)
	case c.haveRemote && fp != c.remoteFP:
		return fmt.Errorf("%w: restart answer of session %s signed with %q, the session uses %q", ErrFingerprintMismatch, s.Session, fp, c.remoteFP)
	}
	c.remoteFP = fp
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.SDP}); err != nil {
		e.closeConn(p, true)
		p.retryAt = time.Now().Add(failRetry)
		return fmt.Errorf("%w: answer from %s: %v", ErrMalformedSignal, p.id, err)
	}
	c.haveRemote, c.restarting = true, false
	queued := c.queued
	c.queued = nil
	e.flushCandidates(c, queued)
	return nil
}

// onRestart restarts ICE on the session the answering peer names, which
// lost its path (its addresses changed, or its checks stopped).
func (e *Engine) onRestart(p *peer, s *Signal) error {
	c := p.conn
	switch {
	case !p.offerer:
		return fmt.Errorf("%w: restart request from %s, which offers to this device", ErrUnexpectedSignal, p.id)
	case c == nil || c.session != s.Session:
		return fmt.Errorf("%w: restart request from %s for session %s, which is not open", ErrUnexpectedSignal, p.id, s.Session)
	}
	if fp, ok := normalizeFingerprint(s.DTLSFingerprint); !ok || fp != c.remoteFP {
		return fmt.Errorf("%w: restart request signed with %q, session %s uses %q", ErrFingerprintMismatch, s.DTLSFingerprint, c.session, c.remoteFP)
	}
	e.restartICE(p, p.id.String()+" asked", true)
	return nil
}

// onCandidate adds a trickled candidate, or keeps it until its session's
// description arrives.
func (e *Engine) onCandidate(p *peer, s *Signal) error {
	rc := remoteCandidate{line: s.Candidate, fingerprint: s.DTLSFingerprint}
	if c := p.conn; c != nil && c.session == s.Session {
		if c.haveRemote && !c.restarting {
			return e.addRemoteCandidate(c, rc)
		}
		if len(c.queued) >= maxQueuedCandidates {
			return fmt.Errorf("%w: more than %d candidates before the answer", ErrUnexpectedSignal, maxQueuedCandidates)
		}
		c.queued = append(c.queued, rc)
		return nil
	}
	if p.offerer {
		return fmt.Errorf("%w: candidate from %s for session %s, which is not open", ErrUnexpectedSignal, p.id, s.Session)
	}
	q, known := p.early[s.Session]
	if (!known && len(p.early) >= maxEarlySessions) || len(q) >= maxQueuedCandidates {
		return fmt.Errorf("%w: too many candidates from %s ahead of their offer", ErrUnexpectedSignal, p.id)
	}
	p.early[s.Session] = append(q, rc)
	return nil
}

// onBye closes the session the peer closed; the offerer tries again later
// in case the peer comes back.
func (e *Engine) onBye(p *peer, s *Signal) {
	delete(p.early, s.Session)
	if c := p.conn; c != nil && c.session == s.Session {
		e.closeConn(p, false)
		if p.offerer {
			p.retryAt = time.Now().Add(byeRetry)
		}
	}
}
