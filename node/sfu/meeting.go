package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/internal/ids"
)

// Timing of the allocation.
const (
	// audioHangover: a member keeps its audio slots this long after it
	// stops speaking, so word ends and short pauses are not cut.
	audioHangover = time.Second
	// layerIdle: a simulcast layer with no packet for this long is not
	// chosen (the publisher paused it).
	layerIdle = time.Second
	// measureTicks, audioTicks: ticks between bit-rate measures and
	// between allocation rounds.
	measureTicks = 10
	audioTicks   = 2
)

// meeting is the sessions of one meeting and the choices made for them:
// who is in each slot, and which speakers spoke last. All its state and
// its sessions' "meeting.mu" fields are under mu; pending is under the
// relay's lock.
type meeting struct {
	relay *Relay
	id    []byte
	key   string

	mu       sync.Mutex
	sessions map[ids.DeviceRef]*session // the relay's own sessions
	byName   map[string]*session        // every member by name, local first (unnameLocked)
	order    []*session                 // join order: own sessions and members of peer relays
	nextSeq  uint64
	history  []string // dominant speakers, most recent first
	dominant string

	// pubGen counts changes of the sources the relay's own sessions
	// publish: a push link re-offers when it moved on (push.go).
	pubGen atomic.Uint64

	pending int // Joins under way; relay.mu
}

func newMeeting(r *Relay, id []byte) *meeting {
	return &meeting{
		relay:    r,
		id:       slices.Clone(id),
		key:      string(id),
		sessions: map[ids.DeviceRef]*session{},
		byName:   map[string]*session{},
	}
}

// commit makes s a member of the meeting, returning the session it
// replaces, if any (the caller closes it). It fails when s is closing.
func (m *meeting) commit(s *session) (old *session, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.closing.Load() {
		return nil, false
	}
	old = m.sessions[s.key]
	s.committed = true
	s.joinSeq = m.nextSeq
	m.nextSeq++
	m.sessions[s.key] = s
	m.byName[s.name] = s
	m.order = append(m.order, s)
	m.reallocateLocked(m.relay.cfg.Now())
	return old, true
}

// remove takes s out of the meeting: its slots stop and its sources leave
// every slot, at once. It reports whether s was a committed member.
func (m *meeting) remove(s *session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !s.committed || s.gone {
		return false
	}
	if m.sessions[s.key] == s {
		delete(m.sessions, s.key)
	}
	m.leaveLocked(s)
	for _, d := range s.slots {
		d.close()
	}
	m.pubGen.Add(1)
	now := m.relay.cfg.Now()
	m.reallocateLocked(now)
	m.allocateAudioLocked(now)
	return true
}

// fill chooses the slots of s, whose data channel just opened, at once
// rather than at the next round.
func (m *meeting) fill(s *session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.gone || !s.committed {
		return
	}
	now := m.relay.cfg.Now()
	m.allocateVideoLocked(s, m.speakingNow(now), m.joined(), m.hasVideo(now), now)
	m.allocateScreenLocked(s, now)
	m.allocateAudioLocked(now)
}

// leaveLocked takes a member, the relay's own or a peer relay's, out of
// the meeting's order and names, and its sources out of every slot.
// meeting.mu.
func (m *meeting) leaveLocked(s *session) {
	s.gone = true
	m.order = slices.DeleteFunc(m.order, func(x *session) bool { return x == s })
	m.unnameLocked(s)
	for _, src := range s.sources() {
		forgetEverywhere(src)
	}
}

// unnameLocked gives s's name to another member of that name, if there
// is one — the relay's own session first, else the newest member of a
// peer relay — or forgets the name. Two members share a name only for a
// moment, when one moves between relays, or when a peer relay names a
// member falsely: labels are advisory, and a peer never takes a name
// from a local session. meeting.mu.
func (m *meeting) unnameLocked(s *session) {
	if m.byName[s.name] != s {
		return
	}
	delete(m.byName, s.name)
	var next *session
	for _, o := range m.order {
		if o == s || o.gone || o.name != s.name {
			continue
		}
		if o.remote == nil {
			next = o
			break
		}
		next = o
	}
	if next != nil {
		m.byName[s.name] = next
		return
	}
	m.history = slices.DeleteFunc(m.history, func(n string) bool { return n == s.name })
	if m.dominant == s.name {
		m.dominant = ""
	}
}

// shadowedLocked reports a member whose name another holds: it is
// neither scored nor chosen. meeting.mu.
func (m *meeting) shadowedLocked(s *session) bool {
	return m.byName[s.name] != s
}

// forgetEverywhere takes src out of every slot forwarding or awaiting it
// and off every push link, at once.
func forgetEverywhere(src *source) {
	if downs := src.downs.Load(); downs != nil {
		for _, d := range *downs {
			d.forget(src)
		}
	}
	src.forgetPushes()
}

// sources lists what s publishes. meeting.mu.
func (s *session) sources() []*source {
	var out []*source
	if s.audio != nil {
		out = append(out, s.audio)
	}
	out = append(out, s.camera...)
	if s.screen != nil {
		out = append(out, s.screen)
	}
	return out
}

// addSource registers a published track; false when the session is gone
// or already has one for that place.
func (m *meeting) addSource(src *source) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addSourceLocked(src)
}

// addSourceLocked is addSource under meeting.mu.
func (m *meeting) addSourceLocked(src *source) bool {
	s := src.owner
	if s.gone || s.closing.Load() {
		return false
	}
	switch src.kind {
	case kindAudio:
		if s.audio != nil {
			return false
		}
		s.audio = src
	case kindScreen:
		if s.screen != nil {
			return false
		}
		s.screen = src
	default:
		for _, c := range s.camera {
			if c.rid == src.rid || c.rid == "" || src.rid == "" {
				return false
			}
		}
		if len(s.camera) >= len(cameraRIDs) {
			return false
		}
		s.camera = append(s.camera, src)
		slices.SortFunc(s.camera, func(a, b *source) int { return ridRank(a.rid) - ridRank(b.rid) })
	}
	if s.remote == nil {
		m.pubGen.Add(1)
	}
	return true
}

// removeSource unregisters a track that ended.
func (m *meeting) removeSource(src *source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeSourceLocked(src)
}

// removeSourceLocked is removeSource under meeting.mu.
func (m *meeting) removeSourceLocked(src *source) {
	s := src.owner
	switch {
	case s.audio == src:
		s.audio = nil
	case s.screen == src:
		s.screen = nil
	default:
		s.camera = slices.DeleteFunc(s.camera, func(c *source) bool { return c == src })
	}
	forgetEverywhere(src)
	if s.remote == nil {
		m.pubGen.Add(1)
	}
	if !s.gone {
		now := m.relay.cfg.Now()
		m.reallocateLocked(now)
		m.allocateAudioLocked(now)
	}
}

func ridRank(rid string) int {
	if i := slices.Index(cameraRIDs[:], rid); i >= 0 {
		return i
	}
	return len(cameraRIDs)
}

// tick runs one round of the relay's clock for the meeting: speech
// scores, and every audioTicks the audio and video allocation.
func (m *meeting) tick(now time.Time, n uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n%measureTicks == 0 {
		for _, s := range m.order {
			for _, src := range s.sources() {
				src.measure(now)
			}
		}
	}
	changed := m.speechLocked(now)
	if n%audioTicks == 0 {
		m.allocateAudioLocked(now)
	}
	if changed || n%audioTicks == 0 {
		m.reallocateLocked(now)
	}
	// A switch whose key frame has not come: ask again.
	for _, s := range m.order {
		for _, d := range s.slots {
			if src := d.waiting(now, pliInterval); src != nil && src.requestKeyframe() {
				m.relay.stats.pliRequested.Add(1)
			}
		}
	}
}

// others returns the relay's own sessions of the meeting but the one
// named except: those an opaque message goes to.
func (m *meeting) others(except string) []*session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*session, 0, len(m.order))
	for _, s := range m.order {
		if s.remote == nil && s.name != except && !s.gone {
			out = append(out, s)
		}
	}
	return out
}

// deliverOpaque sends an opaque message, unchanged, to the relay's own
// sessions of the meeting that receive media of the member named except
// (its sender), or did less than formerGrace ago (receivesFrom).
func (m *meeting) deliverOpaque(except string, data []byte) {
	st := &m.relay.stats
	for _, o := range m.others(except) {
		if !o.receivesFrom(except) {
			continue // it gets none of the sender's media: nothing to verify
		}
		dc := o.dc.Load()
		if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen || dc.BufferedAmount() > maxBuffered || dc.Send(data) != nil {
			st.opaqueDropped.Add(1)
			continue
		}
		st.opaqueForwarded.Add(1)
	}
}

// serving reports whether the meeting has sessions of the relay's own.
func (m *meeting) serving() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions) > 0
}

// localSources lists what the relay's own sessions publish, at most
// limit: every audio first (speech is chosen among all of them), then
// screens, then camera layers in join order.
func (m *meeting) localSources(limit int) []*source {
	m.mu.Lock()
	defer m.mu.Unlock()
	var audio, screen, camera []*source
	for _, s := range m.order {
		if s.remote != nil || s.gone {
			continue
		}
		if s.audio != nil {
			audio = append(audio, s.audio)
		}
		if s.screen != nil {
			screen = append(screen, s.screen)
		}
		camera = append(camera, s.camera...)
	}
	out := append(append(audio, screen...), camera...)
	return out[:min(len(out), limit)]
}
