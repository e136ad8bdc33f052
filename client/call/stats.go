package call

import (
	"errors"
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
	Other      uint64
}

// Total returns the sum of all reasons.
func (r Rejections) Total() uint64 {
	return r.AuthFailed + r.Replayed + r.UnknownKID + r.NoKey + r.Malformed + r.Other
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
}

// reject counts a dropped frame under the reason err wraps.
func (c *mediaCounters) reject(err error) {
	switch {
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
	s.Rejected = Rejections{
		AuthFailed: c.authFailed.Load(),
		Replayed:   c.replayed.Load(),
		UnknownKID: c.unknownKID.Load(),
		NoKey:      c.noKey.Load(),
		Malformed:  c.malformed.Load(),
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
		Sent:       c.sent.Load(),
		SendFailed: c.sendFailed.Load(),
		Dropped:    c.dropped.Load(),
		Accepted:   c.accepted.Load(),
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
