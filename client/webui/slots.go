package webui

import (
	"sync"
	"time"

	"github.com/parleynet/parley/client/call"
)

// Slots: the page's connection to the client has a fixed set of receive
// transceivers, numSlots video and numSlots audio; each remote member of
// the meeting gets one slot (the same index for both) for as long as it
// stays, so that no renegotiation is needed when members come and go.
const numSlots = call.MaxMembers - 1

// slotTable assigns members to slots.
type slotTable struct {
	mu     sync.Mutex
	bySlot [numSlots]string // "user/device", "" when free
}

func newSlotTable() *slotTable { return &slotTable{} }

// assign keeps the slots of members that stay, frees the others' and gives
// free slots to new members, in roster order. It returns every remote
// member's slot.
func (t *slotTable) assign(members []call.Member, selfUser, selfDevice string) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	want := map[string]bool{}
	for _, m := range members {
		if m.UserID != selfUser || m.DeviceID != selfDevice {
			want[m.String()] = true
		}
	}
	out := map[string]int{}
	for i, id := range t.bySlot {
		if id != "" && !want[id] {
			t.bySlot[i] = ""
		} else if id != "" {
			out[id] = i
		}
	}
	for _, m := range members {
		id := m.String()
		if _, ok := out[id]; ok || !want[id] {
			continue
		}
		for i := range t.bySlot {
			if t.bySlot[i] == "" {
				t.bySlot[i], out[id] = id, i
				break
			}
		}
	}
	return out
}

// slotOf returns member's slot, or -1.
func (t *slotTable) slotOf(member string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range t.bySlot {
		if id == member {
			return i
		}
	}
	return -1
}

func (t *slotTable) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bySlot = [numSlots]string{}
}

// sinks returns the engine's sink factory: each remote track's frames, as
// they arrived (still encrypted, after the engine checked that they
// authenticate), go to the member's slot on the page's connection.
func (t *slotTable) sinks(c *controller) call.SinkFactory {
	return func(from call.Member, kind call.MediaKind) (call.Sink, error) {
		return &slotSink{c: c, t: t, member: from.String(), kind: kind}, nil
	}
}

// slotSink forwards one remote track to the page.
type slotSink struct {
	c      *controller
	t      *slotTable
	member string
	kind   call.MediaKind
	lastTS uint32
	have   bool
}

func (s *slotSink) WriteFrame(f call.Frame) error {
	d := s.duration(f.Timestamp)
	s.c.mu.Lock()
	b := s.c.bridge
	s.c.mu.Unlock()
	if b == nil {
		return nil
	}
	if slot := s.t.slotOf(s.member); slot >= 0 {
		b.write(slot, s.kind, f.Sealed, d)
	}
	return nil
}

// duration is the time since the previous frame by RTP timestamps, or a
// frame's usual length when that is unknown or implausible.
func (s *slotSink) duration(ts uint32) time.Duration {
	def, clock := 33*time.Millisecond, 90000.0
	if s.kind == call.Audio {
		def, clock = 20*time.Millisecond, 48000
	}
	d := def
	if s.have {
		if step := time.Duration(float64(ts-s.lastTS) / clock * float64(time.Second)); step > 0 && step < time.Second {
			d = step
		}
	}
	s.lastTS, s.have = ts, true
	return d
}

func (s *slotSink) Close() error { return nil }
