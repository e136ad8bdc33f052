package sfu

// Remote members: the members of peer relays a pull link brings into a
// meeting.

import "github.com/parleynet/parley/internal/ids"

// addBridged adds src, a track of link l, as a source of the member ref
// names, making the remote member on its first track. A remote member
// takes a name only from another remote one (unnameLocked).
func (m *meeting) addBridged(l *pullLink, ref ids.DeviceRef, src *source) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l.left {
		return false
	}
	name := ref.String()
	s := l.members[name]
	if s == nil {
		s = &session{relay: m.relay, meeting: m, key: ref, name: name, pc: l.pc, remote: l, created: m.relay.cfg.Now(), committed: true}
		s.joinSeq = m.nextSeq
		m.nextSeq++
		m.order = append(m.order, s)
		if h := m.byName[name]; h == nil || h.remote != nil {
			m.byName[name] = s
		}
		l.members[name] = s
	}
	src.owner = s
	if !m.addSourceLocked(src) {
		m.emptyRemoteLocked(s)
		return false
	}
	return true
}

// removeBridged takes out a bridged source that ended; a remote member
// left with none leaves.
func (m *meeting) removeBridged(src *source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeSourceLocked(src)
	m.emptyRemoteLocked(src.owner)
}

// emptyRemoteLocked makes a remote member with no source leave.
// meeting.mu.
func (m *meeting) emptyRemoteLocked(s *session) {
	if s.gone || len(s.sources()) > 0 {
		return
	}
	m.leaveLocked(s)
	if s.remote.members[s.name] == s {
		delete(s.remote.members, s.name)
	}
	now := m.relay.cfg.Now()
	m.reallocateLocked(now)
	m.allocateAudioLocked(now)
}

// dropLink makes every member of the link leave at once.
func (m *meeting) dropLink(l *pullLink) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.left = true
	if len(l.members) == 0 {
		return
	}
	for name, s := range l.members {
		m.leaveLocked(s)
		delete(l.members, name)
	}
	now := m.relay.cfg.Now()
	m.reallocateLocked(now)
	m.allocateAudioLocked(now)
}
