package sfu

import (
	"encoding/json"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/internal/ids"
)

// Data channel messages: one type byte, then the body.
const (
	msgSlots  = 0x01 // relay → client: JSON slotsMessage
	msgPrefs  = 0x02 // client → relay: JSON prefsMessage
	msgOpaque = 0x03 // any direction: forwarded unchanged to the members that receive the sender's media
)

// Limits of the data channel.
const (
	maxMessage  = 16 << 10 // bytes of a prefs or opaque message, type byte included
	opaqueRate  = 50       // opaque messages per second per publisher
	opaqueBurst = 100
	// prefsRate, prefsBurst: prefs that reallocate at once; more are kept
	// for the next allocation round.
	prefsRate  = 10
	prefsBurst = 20
	// maxBuffered: a subscriber with this much unsent on its channel gets
	// no more opaque messages until it drains.
	maxBuffered = 1 << 20
)

// slotsMessage tells a client who is in its slots (advisory: clients
// identify senders by SFrame KID).
type slotsMessage struct {
	Slots map[string]slotInfo `json:"slots"`
}

type slotInfo struct {
	Member string `json:"member"`
	Layer  string `json:"layer,omitempty"`
}

// prefsMessage is a client's preferences.
type prefsMessage struct {
	Pin []string `json:"pin"`
}

// onDataChannel accepts the session's one parley-relay channel and
// closes any other.
func (s *session) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Label() != dataChannelLabel || !s.dc.CompareAndSwap(nil, dc) {
		_ = dc.Close()
		return
	}
	dc.OnOpen(func() {
		s.dcOpen.Store(true)
		s.slotsDirty.Store(true)
		s.meeting.fill(s)
	})
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { s.onMessage(msg.Data) })
}

// onMessage handles one message from the client. Nothing in it may do
// harm: unknown types, bad JSON and oversized messages are ignored.
func (s *session) onMessage(data []byte) {
	if len(data) == 0 || len(data) > maxMessage {
		if len(data) > 0 && data[0] == msgOpaque {
			s.relay.stats.opaqueDropped.Add(1)
		}
		return
	}
	switch data[0] {
	case msgPrefs:
		var p prefsMessage
		if json.Unmarshal(data[1:], &p) != nil {
			return
		}
		s.setPins(p.Pin)
	case msgOpaque:
		if !s.opaque.AllowN(s.relay.cfg.Now(), 1) {
			s.relay.stats.opaqueDropped.Add(1)
			return
		}
		s.meeting.deliverOpaque(s.name, data)
		if c := s.relay.cascade; c != nil {
			c.bridgeOpaque(s.meeting, s.name, data)
		}
	}
}

// setPins keeps up to maxVideoSlots distinct pins that name members and
// refills the session's video slots — at once unless the client sends
// prefs faster than prefsRate, else at the next allocation round.
func (s *session) setPins(pin []string) {
	pins := make([]string, 0, min(len(pin), maxVideoSlots))
	for _, p := range pin {
		if len(pins) == maxVideoSlots {
			break
		}
		if _, ok := ids.ParseDeviceRef(p); !ok || containsString(pins, p) {
			continue
		}
		pins = append(pins, p)
	}
	m := s.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.gone {
		return
	}
	s.pins = pins
	if now := s.relay.cfg.Now(); s.prefs.AllowN(now, 1) {
		m.allocateVideoLocked(s, m.speakingNow(now), m.joined(), m.hasVideo(now), now)
	}
}

// flushSlots sends the client its slots when they changed since the last
// message.
func (s *session) flushSlots() {
	if !s.slotsDirty.Swap(false) {
		return
	}
	dc := s.dc.Load()
	if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
		s.slotsDirty.Store(true)
		return
	}
	msg := slotsMessage{Slots: map[string]slotInfo{}}
	for _, d := range s.slots {
		src := d.current()
		if src == nil {
			continue
		}
		info := slotInfo{Member: src.owner.name}
		if src.kind == kindCamera {
			info.Layer = src.rid
		}
		msg.Slots[d.mid] = info
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return
	}
	out := append([]byte{msgSlots}, body...)
	if string(out) == string(s.lastSlots) {
		return
	}
	if dc.Send(out) != nil {
		s.slotsDirty.Store(true)
		return
	}
	s.lastSlots = out
}

// formerGrace is how long a member still gets the opaque messages of a
// member its slots stopped forwarding: the signatures of the last frames
// it got come after them (a batch every 250 ms), and without them the
// member would cut the sender as unsigned.
const formerGrace = 3 * time.Second

// noteFormer records that one of s's slots stopped forwarding from's
// media at now.
func (s *session) noteFormer(from *session, now time.Time) {
	s.formerMu.Lock()
	defer s.formerMu.Unlock()
	if s.former == nil {
		s.former = make(map[string]time.Time)
	}
	for o, at := range s.former {
		if now.Sub(at) > formerGrace {
			delete(s.former, o)
		}
	}
	s.former[from.name] = now
}

// receivesFrom reports whether any of s's slots forwards, or is switching
// to, one of from's tracks, or stopped less than formerGrace ago: the
// sessions that need from's opaque messages (its frame signatures).
// Sending them to the others would only load their data channels, which
// in a large meeting is most of them.
func (s *session) receivesFrom(from string) bool {
	s.formerMu.Lock()
	at, ok := s.former[from]
	s.formerMu.Unlock()
	if ok && s.relay.cfg.Now().Sub(at) <= formerGrace {
		return true
	}
	for _, d := range s.slots {
		if src := d.target(); src != nil && src.owner.name == from {
			return true
		}
		if src := d.current(); src != nil && src.owner.name == from {
			return true
		}
	}
	return false
}
