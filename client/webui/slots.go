package webui

import (
	"sync"
	"time"

	"github.com/parleynet/parley/client/call"
)

// Slots: the page's connection to the client has a fixed set of receive
// transceivers, numSlots each of video, audio and screen, so that no
// renegotiation is needed when members come and go. A remote member
// whose frames arrive takes a slot (the same index for its three kinds)
// and keeps it while it sends; on a relay, which forwards only the
// pageLastN videos, the three loudest voices and one shared screen, a
// member that fell silent gives its slot up to the next after slotIdle.
//
// The page does not learn the slots from this client: its Worker names
// each decrypted frame's sender by the SFrame KID that authenticated it,
// and the page shows a slot on that member's tile (PROTOCOL.md section
// 8). So no table, however stale, can show one member's media as
// another's.
const (
	pageLastN = call.DefaultLastN
	numSlots  = pageLastN + 3 + 1
	// slotIdle: a member with no frame for this long may lose its slot to
	// a member that has none.
	slotIdle = 2 * time.Second
)

// The mesh's members must all fit: each has a slot for the whole call.
var _ [numSlots - (call.MaxMembers - 1)]struct{}

// slotTable assigns members to slots. Its clock is injected for tests.
type slotTable struct {
	mu     sync.Mutex
	now    func() time.Time
	bySlot [numSlots]string    // "user/device", "" when free
	last   [numSlots]time.Time // the slot's latest frame
}

func newSlotTable() *slotTable { return &slotTable{now: time.Now} }

// keep frees the slots of members no longer in the roster: a member that
// left sends nothing more, and its slot may go at once.
func (t *slotTable) keep(members []call.Member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	in := map[string]bool{}
	for _, m := range members {
		in[m.String()] = true
	}
	for i, id := range t.bySlot {
		if id != "" && !in[id] {
			t.bySlot[i], t.last[i] = "", time.Time{}
		}
	}
}

// take returns member's slot for a frame that arrives now: its own, a
// free one, or the one idle the longest if idle for slotIdle; -1 when
// every slot is busy (the frame is dropped: the page tells the person
// who is not shown).
func (t *slotTable) take(member string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	free, idlest := -1, -1
	for i, id := range t.bySlot {
		switch {
		case id == member:
			t.last[i] = now
			return i
		case id == "":
			if free < 0 {
				free = i
			}
		case now.Sub(t.last[i]) >= slotIdle && (idlest < 0 || t.last[i].Before(t.last[idlest])):
			idlest = i
		}
	}
	i := free
	if i < 0 {
		i = idlest
	}
	if i < 0 {
		return -1
	}
	t.bySlot[i], t.last[i] = member, now
	return i
}

func (t *slotTable) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bySlot, t.last = [numSlots]string{}, [numSlots]time.Time{}
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
	if slot := s.t.take(s.member); slot >= 0 {
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
