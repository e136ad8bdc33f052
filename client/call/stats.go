package call

import (
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/sframe"
)

// Rejections counts dropped media frames by reason.
type Rejections struct {
	AuthFailed uint64 // the tag did not verify: altered or forged
	Replayed   uint64 // a counter already delivered, or too old
	UnknownKID uint64 // a sender index outside the roster, or another member's KID on this connection
	NoKey      uint64 // an epoch not (or no longer) held
	Malformed  uint64 // not an SFrame frame
	// Unsigned: relayed frames of a sender this device cut, because its
	// signatures over them failed or never came (framesig).
	Unsigned uint64
	Other    uint64
}

// Total returns the sum of all reasons.
func (r Rejections) Total() uint64 {
	return r.AuthFailed + r.Replayed + r.UnknownKID + r.NoKey + r.Malformed + r.Unsigned + r.Other
}

// PeerStats is what the engine knows about the connection with one other
// member of the current roster.
type PeerStats struct {
	UserID   string
	DeviceID string
	Session  string // hex session ID of the current connection, "" if none
	State    string // pion's connection state, "" if no connection
	Epoch    uint64 // this engine's current epoch
	// RecvEpoch is the epoch of the last frame decrypted from the peer.
	RecvEpoch uint64
	// Frames and bytes (SFrame ciphertext) sent to the peer: the frames
	// written while the connection was up.
	FramesSent uint64
	BytesSent  uint64
	// Frames and bytes received from the peer after reassembly, whether
	// they decrypt or not.
	FramesReceived uint64
	BytesReceived  uint64
	// FramesDecrypted were authenticated and handed to the sink.
	FramesDecrypted uint64
	Rejected        Rejections
	// RTT is the ICE round-trip time of the selected candidate pair, or
	// from RTCP receiver reports; 0 until measured.
	RTT time.Duration
	// Path is the selected candidate pair of the current connection: the
	// zero Path until ICE selects one.
	Path Path
	// TargetBitrate is the congestion controller's estimate of what the
	// path to the peer carries, in bit/s; 0 without a connection.
	TargetBitrate int
	// KeyframeRequests counts the peer's requests for a key frame of this
	// device's video (PLI and FIR), over all connections.
	KeyframeRequests uint64
	// Restarts counts ICE restarts of the current connection.
	Restarts uint64
	// Reconnects counts the sessions this device replaced because its own
	// addresses changed, over all connections.
	Reconnects uint64
	// BeforeJoin counts frames under the epoch before this device's first:
	// a member still sending under it while this device's keys reach
	// everyone (KeyTransition). This device never held that epoch, by
	// design, so they are not rejections.
	BeforeJoin uint64
}

// Path is where a connection's media go: the candidate types of the
// selected pair ("host", "srflx", "prflx", "relay"), and the addresses.
type Path struct {
	Local, Remote         string // candidate types
	LocalAddr, RemoteAddr string // host:port
}

// Relayed reports whether either end of the pair is a TURN relay.
func (p Path) Relayed() bool { return p.Local == "relay" || p.Remote == "relay" }

// Kind returns "relayed", "direct", or "" before a pair is selected.
func (p Path) Kind() string {
	switch {
	case p.Local == "":
		return ""
	case p.Relayed():
		return "relayed"
	}
	return "direct"
}

// String returns "direct (host → srflx)", "relayed (relay → srflx)", or
// "no path yet".
func (p Path) String() string {
	if p.Local == "" {
		return "no path yet"
	}
	return p.Kind() + " (" + p.Local + " → " + p.Remote + ")"
}

func pathOf(pair *webrtc.ICECandidatePair) Path {
	if pair == nil || pair.Local == nil || pair.Remote == nil {
		return Path{}
	}
	addr := func(c *webrtc.ICECandidate) string {
		return net.JoinHostPort(c.Address, strconv.Itoa(int(c.Port)))
	}
	return Path{
		Local: pair.Local.Typ.String(), Remote: pair.Remote.Typ.String(),
		LocalAddr: addr(pair.Local), RemoteAddr: addr(pair.Remote),
	}
}

// mediaCounters are one peer's counters, kept across reconnections.
type mediaCounters struct {
	framesSent, bytesSent atomic.Uint64
	framesRecv, bytesRecv atomic.Uint64
	decrypted             atomic.Uint64
	recvEpoch             atomic.Uint64
	authFailed, replayed  atomic.Uint64
	unknownKID, noKey     atomic.Uint64
	malformed, other      atomic.Uint64
	unsigned              atomic.Uint64
	keyframeReqs          atomic.Uint64
	reconnects            atomic.Uint64
	beforeJoin            atomic.Uint64
}

// reject counts a dropped frame under the reason err wraps.
func (c *mediaCounters) reject(err error) {
	switch {
	case errors.Is(err, ErrUnsigned):
		c.unsigned.Add(1)
	case errors.Is(err, sframe.ErrMalformed):
		c.malformed.Add(1)
	case errors.Is(err, sframe.ErrUnknownKID):
		c.unknownKID.Add(1)
	case errors.Is(err, sframe.ErrNoKey):
		c.noKey.Add(1)
	case errors.Is(err, sframe.ErrReplay):
		c.replayed.Add(1)
	case errors.Is(err, sframe.ErrAuthFailed):
		c.authFailed.Add(1)
	default:
		c.other.Add(1)
	}
}

func (c *mediaCounters) fill(s *PeerStats) {
	s.FramesSent, s.BytesSent = c.framesSent.Load(), c.bytesSent.Load()
	s.FramesReceived, s.BytesReceived = c.framesRecv.Load(), c.bytesRecv.Load()
	s.FramesDecrypted, s.RecvEpoch = c.decrypted.Load(), c.recvEpoch.Load()
	s.KeyframeRequests = c.keyframeReqs.Load()
	s.Reconnects = c.reconnects.Load()
	s.BeforeJoin = c.beforeJoin.Load()
	s.Rejected = Rejections{
		AuthFailed: c.authFailed.Load(),
		Replayed:   c.replayed.Load(),
		UnknownKID: c.unknownKID.Load(),
		NoKey:      c.noKey.Load(),
		Malformed:  c.malformed.Load(),
		Unsigned:   c.unsigned.Load(),
		Other:      c.other.Load(),
	}
}

// rttOf reads the round-trip time from pion's stats: the nominated ICE
// candidate pair's, else the latest RTCP-based one.
func rttOf(pc *webrtc.PeerConnection) time.Duration {
	var ice, rtcp float64
	for _, s := range pc.GetStats() {
		switch s := s.(type) {
		case webrtc.ICECandidatePairStats:
			if s.Nominated && s.CurrentRoundTripTime > 0 {
				ice = s.CurrentRoundTripTime
			}
		case webrtc.RemoteInboundRTPStreamStats:
			if s.RoundTripTime > 0 {
				rtcp = s.RoundTripTime
			}
		}
	}
	if ice == 0 {
		ice = rtcp
	}
	return time.Duration(ice * float64(time.Second))
}

// SignalStats counts signals by outcome and rejected signals by reason.
type SignalStats struct {
	Sent       uint64 // sealed and handed to the transport
	SendFailed uint64 // sealing or the transport failed
	Dropped    uint64 // not sent: the peer's queue was full
	Accepted   uint64 // authenticated and acted on
	Rejected   SignalRejections
	// MessagesDropped counts in-call messages refused over their sender's
	// rate (message.go).
	MessagesDropped uint64
}

// SignalRejections counts refused inbound signals by reason.
type SignalRejections struct {
	OpenFailed          uint64 // HPKE could not open it: tampered or not for this key
	Malformed           uint64 // not a canonical signal, or unusable SDP
	UnknownSender       uint64 // sender not in the current roster
	BadSignature        uint64 // signature does not verify under the roster's device key
	Misaddressed        uint64 // for another device or meeting, or sender differs from the transport's
	FingerprintMismatch uint64 // signed fingerprint differs from the SDP's or the session's
	Replayed            uint64 // (sender, session, seq) seen before
	Stale               uint64 // epoch older than the previous one
	Unexpected          uint64 // does not fit the session state
	Other               uint64
}

// Total returns the sum of all reasons.
func (r SignalRejections) Total() uint64 {
	return r.OpenFailed + r.Malformed + r.UnknownSender + r.BadSignature + r.Misaddressed +
		r.FingerprintMismatch + r.Replayed + r.Stale + r.Unexpected + r.Other
}

type signalCounters struct {
	sent, sendFailed, dropped, accepted   atomic.Uint64
	msgDropped                            atomic.Uint64
	openFailed, malformed, unknownSender  atomic.Uint64
	badSignature, misaddressed, mismatch  atomic.Uint64
	replayed, stale, unexpected, otherRej atomic.Uint64
}

// reject counts a refused signal under the reason err wraps. Checked in
// this order because some errors wrap two sentinels.
func (c *signalCounters) reject(err error) {
	for _, r := range []struct {
		target error
		n      *atomic.Uint64
	}{
		{ErrOpenFailed, &c.openFailed},
		{ErrFingerprintMismatch, &c.mismatch},
		{ErrMalformedSignal, &c.malformed},
		{ErrUnknownSender, &c.unknownSender},
		{ErrBadSignature, &c.badSignature},
		{ErrMisaddressed, &c.misaddressed},
		{ErrReplayedSignal, &c.replayed},
		{ErrStaleSignal, &c.stale},
		{ErrUnexpectedSignal, &c.unexpected},
	} {
		if errors.Is(err, r.target) {
			r.n.Add(1)
			return
		}
	}
	c.otherRej.Add(1)
}

func (c *signalCounters) snapshot() SignalStats {
	return SignalStats{
		Sent:            c.sent.Load(),
		SendFailed:      c.sendFailed.Load(),
		Dropped:         c.dropped.Load(),
		Accepted:        c.accepted.Load(),
		MessagesDropped: c.msgDropped.Load(),
		Rejected: SignalRejections{
			OpenFailed:          c.openFailed.Load(),
			Malformed:           c.malformed.Load(),
			UnknownSender:       c.unknownSender.Load(),
			BadSignature:        c.badSignature.Load(),
			Misaddressed:        c.misaddressed.Load(),
			FingerprintMismatch: c.mismatch.Load(),
			Replayed:            c.replayed.Load(),
			Stale:               c.stale.Load(),
			Unexpected:          c.unexpected.Load(),
			Other:               c.otherRej.Load(),
		},
	}
}
