package sfu

import (
	"encoding/hex"
	"sync/atomic"
)

// Stats is a snapshot of the relay's work.
type Stats struct {
	// Sessions is the number of members connected (or connecting).
	Sessions int
	// PerMeeting counts sessions by meeting ID, hex-encoded.
	PerMeeting map[string]int
	// DownTracks is the number of slots forwarding a source now.
	DownTracks int
	// PacketsForwarded and BytesForwarded (payload bytes) count what
	// went out on all slots.
	PacketsForwarded uint64
	BytesForwarded   uint64
	// PLIForwarded are subscribers' key frame requests passed to a
	// source; PLISuppressed those dropped because the source had one
	// less than 500 ms before; PLIRequested the relay's own, for
	// switches.
	PLIForwarded  uint64
	PLISuppressed uint64
	PLIRequested  uint64
	// SlotSwitches count slots that moved to another member's source at
	// a key frame; LayerSwitches those that moved to another simulcast
	// layer of the same member.
	SlotSwitches  uint64
	LayerSwitches uint64
	// OpaqueForwarded counts 0x03 messages delivered to a session;
	// OpaqueDropped those refused (rate, size) or not deliverable.
	OpaqueForwarded uint64
	OpaqueDropped   uint64

	// The cascade (doc.go). Peers is the peer relays the relay keeps
	// anything for; PeerMeetings the (peer, meeting) pairs it knows are
	// served by both; PushLinks and PullLinks its links with them, each
	// one (meeting, peer) pair and direction; RemoteMembers the members
	// of peer relays in its meetings.
	Peers         int
	PeerMeetings  int
	PushLinks     int
	PullLinks     int
	RemoteMembers int
	// PeerMessages counts peer messages taken; PeerRefused those
	// dropped as malformed or over a peer's limits.
	PeerMessages uint64
	PeerRefused  uint64
	// BridgedPackets counts packets sent on push links; OpaqueBridged
	// opaque messages sent on them.
	BridgedPackets uint64
	OpaqueBridged  uint64
}

type counters struct {
	packets, bytes                            atomic.Uint64
	pliForwarded, pliSuppressed, pliRequested atomic.Uint64
	slotSwitches, layerSwitches               atomic.Uint64
	opaqueForwarded, opaqueDropped            atomic.Uint64
	peerMessages, peerRefused                 atomic.Uint64
	bridgedPackets, opaqueBridged             atomic.Uint64
}

// Stats returns a snapshot of the relay's counters and sessions.
func (r *Relay) Stats() Stats {
	st := Stats{
		PerMeeting:       map[string]int{},
		PacketsForwarded: r.stats.packets.Load(),
		BytesForwarded:   r.stats.bytes.Load(),
		PLIForwarded:     r.stats.pliForwarded.Load(),
		PLISuppressed:    r.stats.pliSuppressed.Load(),
		PLIRequested:     r.stats.pliRequested.Load(),
		SlotSwitches:     r.stats.slotSwitches.Load(),
		LayerSwitches:    r.stats.layerSwitches.Load(),
		OpaqueForwarded:  r.stats.opaqueForwarded.Load(),
		OpaqueDropped:    r.stats.opaqueDropped.Load(),
		PeerMessages:     r.stats.peerMessages.Load(),
		PeerRefused:      r.stats.peerRefused.Load(),
		BridgedPackets:   r.stats.bridgedPackets.Load(),
		OpaqueBridged:    r.stats.opaqueBridged.Load(),
	}
	if r.cascade != nil {
		r.cascade.stats(&st)
	}
	for _, m := range r.meetingList() {
		m.mu.Lock()
		n := 0
		for _, s := range m.order {
			if s.remote != nil {
				st.RemoteMembers++
				continue
			}
			n++
			for _, d := range s.slots {
				if d.current() != nil {
					st.DownTracks++
				}
			}
		}
		m.mu.Unlock()
		if n > 0 {
			st.PerMeeting[hex.EncodeToString(m.id)] = n
			st.Sessions += n
		}
	}
	return st
}
