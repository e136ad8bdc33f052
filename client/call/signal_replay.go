package call

import (
	"fmt"

	"github.com/parleynet/parley/internal/ids"
)

// Bounds of the signal replay guard.
const (
	// signalWindow is how far behind a session's newest seq a signal may
	// arrive (the mailbox may reorder) and still be accepted once.
	signalWindow = 64
	// maxSessionsPerSender bounds the sessions remembered per sender: a
	// connection attempt makes one, so a meeting needs a handful. Beyond it
	// new sessions are refused rather than old ones forgotten, since a
	// forgotten session's signals could be replayed.
	maxSessionsPerSender = 512
)

// sigReplay remembers, per sender and session, which seqs were accepted.
// It is owned by the engine's loop.
type sigReplay struct {
	m map[ids.DeviceRef]map[SessionID]*seqWindow
}

// seqWindow marks the newest seq and, in bit i, whether newest-i was seen.
type seqWindow struct {
	newest uint64
	seen   uint64
}

// check reports whether (from, session, seq) may be accepted, without
// recording it.
func (r *sigReplay) check(from ids.DeviceRef, session SessionID, seq uint64) error {
	if seq == 0 {
		return fmt.Errorf("%w: seq 0 from %s is never sent", ErrReplayedSignal, from)
	}
	sessions := r.m[from]
	w := sessions[session]
	switch {
	case w == nil && len(sessions) >= maxSessionsPerSender:
		return fmt.Errorf("%w: %s opened more than %d sessions", ErrUnexpectedSignal, from, maxSessionsPerSender)
	case w == nil || seq > w.newest:
		return nil
	case w.newest-seq >= signalWindow:
		return fmt.Errorf("%w: seq %d of session %s from %s is %d behind the newest", ErrReplayedSignal, seq, session, from, w.newest-seq)
	case w.seen&(1<<(w.newest-seq)) != 0:
		return fmt.Errorf("%w: seq %d of session %s from %s", ErrReplayedSignal, seq, session, from)
	}
	return nil
}

// accept records a seq that check allowed.
func (r *sigReplay) accept(from ids.DeviceRef, session SessionID, seq uint64) {
	if r.m == nil {
		r.m = make(map[ids.DeviceRef]map[SessionID]*seqWindow)
	}
	sessions := r.m[from]
	if sessions == nil {
		sessions = make(map[SessionID]*seqWindow)
		r.m[from] = sessions
	}
	w := sessions[session]
	if w == nil {
		sessions[session] = &seqWindow{newest: seq, seen: 1}
		return
	}
	if seq > w.newest {
		if d := seq - w.newest; d < signalWindow {
			w.seen <<= d
		} else {
			w.seen = 0
		}
		w.newest = seq
	}
	w.seen |= 1 << (w.newest - seq)
}
