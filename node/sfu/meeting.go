package sfu

import (
	"slices"
	"sync"
	"time"

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
	sessions map[ids.DeviceRef]*session
	byName   map[string]*session
	order    []*session // join order
	nextSeq  uint64
	history  []string // dominant speakers, most recent first
	dominant string

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
	s.gone = true
	if m.sessions[s.key] == s {
		delete(m.sessions, s.key)
	}
	if m.byName[s.name] == s {
		delete(m.byName, s.name)
		m.history = slices.DeleteFunc(m.history, func(n string) bool { return n == s.name })
		if m.dominant == s.name {
			m.dominant = ""
		}
	}
	m.order = slices.DeleteFunc(m.order, func(x *session) bool { return x == s })
	for _, d := range s.slots {
		d.close()
	}
	for _, src := range s.sources() {
		forgetEverywhere(src)
	}
	now := m.relay.cfg.Now()
	m.reallocateLocked(now)
	m.allocateAudioLocked(now)
	return true
}

// forgetEverywhere takes src out of every slot forwarding or awaiting it.
func forgetEverywhere(src *source) {
	if downs := src.downs.Load(); downs != nil {
		for _, d := range *downs {
			d.forget(src)
		}
	}
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
	return true
}

// removeSource unregisters a track that ended.
func (m *meeting) removeSource(src *source) {
	m.mu.Lock()
	defer m.mu.Unlock()
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

// others returns the open data channels of the meeting's sessions but
// from.
func (m *meeting) others(from *session) []*session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*session, 0, len(m.order))
	for _, s := range m.order {
		if s != from && !s.gone {
			out = append(out, s)
		}
	}
	return out
}
