package sfu

import (
	"fmt"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
)

// peerKind is what a peer message says.
type peerKind uint8

const (
	peerAnnounce peerKind = iota + 1
	peerOffer
	peerAnswer
)

// peerMsg is a checked message between relays (api/cascade/v1).
type peerMsg struct {
	kind    peerKind
	meeting []byte
	serving bool   // announce
	link    uint64 // offer, answer
	sdp     string // offer, answer
}

// parsePeerMessage decodes and checks a peer's message. Every refusal
// wraps ErrBadPeerMessage and says what was wrong.
func parsePeerMessage(b []byte) (peerMsg, error) {
	if len(b) > cascadev1.MaxMessageSize {
		return peerMsg{}, fmt.Errorf("%w: %d bytes, at most %d", ErrBadPeerMessage, len(b), cascadev1.MaxMessageSize)
	}
	var m cascadev1.Message
	if err := m.Unmarshal(b); err != nil {
		return peerMsg{}, fmt.Errorf("%w: does not decode: %v", ErrBadPeerMessage, err)
	}
	var out peerMsg
	var sig *cascadev1.Signal
	switch body := m.Body.(type) {
	case *cascadev1.Message_Announce:
		if body.Announce == nil {
			return out, fmt.Errorf("%w: empty announce", ErrBadPeerMessage)
		}
		out = peerMsg{kind: peerAnnounce, meeting: body.Announce.MeetingId, serving: body.Announce.Serving}
	case *cascadev1.Message_Offer:
		out.kind, sig = peerOffer, body.Offer
	case *cascadev1.Message_Answer:
		out.kind, sig = peerAnswer, body.Answer
	default:
		return out, fmt.Errorf("%w: no message in it", ErrBadPeerMessage)
	}
	if out.kind != peerAnnounce {
		if sig == nil {
			return out, fmt.Errorf("%w: empty signal", ErrBadPeerMessage)
		}
		out.meeting, out.link, out.sdp = sig.MeetingId, sig.Link, sig.Sdp
		switch {
		case out.link == 0:
			return out, fmt.Errorf("%w: link 0", ErrBadPeerMessage)
		case len(out.sdp) == 0 || len(out.sdp) > cascadev1.MaxSDPSize:
			return out, fmt.Errorf("%w: SDP of %d bytes, want 1 to %d", ErrBadPeerMessage, len(out.sdp), cascadev1.MaxSDPSize)
		}
	}
	if len(out.meeting) == 0 || len(out.meeting) > cascadev1.MaxMeetingIDSize {
		return out, fmt.Errorf("%w: meeting ID of %d bytes, want 1 to %d", ErrBadPeerMessage, len(out.meeting), cascadev1.MaxMeetingIDSize)
	}
	return out, nil
}

// encode is the message's wire form.
func (m peerMsg) encode() []byte {
	var msg cascadev1.Message
	switch m.kind {
	case peerAnnounce:
		msg.Body = &cascadev1.Message_Announce{Announce: &cascadev1.Announce{MeetingId: m.meeting, Serving: m.serving}}
	case peerOffer:
		msg.Body = &cascadev1.Message_Offer{Offer: &cascadev1.Signal{MeetingId: m.meeting, Link: m.link, Sdp: m.sdp}}
	default:
		msg.Body = &cascadev1.Message_Answer{Answer: &cascadev1.Signal{MeetingId: m.meeting, Link: m.link, Sdp: m.sdp}}
	}
	b, err := msg.Marshal()
	if err != nil {
		// Marshal of generated types fails only for a nil oneof member,
		// which encode never builds.
		return nil
	}
	return b
}

// Messages on a push link's data channel: the sender's member name,
// then its opaque message as the member sent it.
//
//	u8(len(name)) || name || 0x03 || body
//
// The name lets the receiving relay keep a member's own messages from it
// when the member has just moved between relays.

// wrapBridged is msg from member as a push link carries it.
func wrapBridged(member string, msg []byte) []byte {
	out := make([]byte, 0, 1+len(member)+len(msg))
	out = append(out, byte(len(member)))
	out = append(out, member...)
	return append(out, msg...)
}

// unwrapBridged splits a push link's message; ok is false for one that
// is malformed, oversized or not opaque.
func unwrapBridged(b []byte) (member string, msg []byte, ok bool) {
	if len(b) < 1 {
		return "", nil, false
	}
	n := int(b[0])
	if n == 0 || len(b) < 1+n+1 {
		return "", nil, false
	}
	member, msg = string(b[1:1+n]), b[1+n:]
	if len(msg) > maxMessage || msg[0] != msgOpaque {
		return "", nil, false
	}
	return member, msg, true
}
