package sframe

import (
	"fmt"
	"sync"
)

// ReplayWindow is how far behind the newest counter a KID's frame may be
// and still be accepted (once). Audio and video of one sender share one
// KID and so one counter sequence, and video frames, being larger, can
// arrive well after audio frames sent later; 1024 counters is several
// seconds of a call at 30 video and 50 audio frames a second.
const ReplayWindow = 1024

// windowWords is one word more than the window needs, so that the counters
// of [newest-ReplayWindow+1, newest] never share a word of the ring.
const windowWords = ReplayWindow/64 + 1

// replayWindow is a sliding bitmap of the counters accepted for one KID
// (RFC 6479's ring of words): O(1) per frame, fixed size. Counters start
// afresh with every KID, because every epoch gives every sender a new key.
// It is safe for concurrent use.
type replayWindow struct {
	mu     sync.Mutex
	seen   bool   // any counter accepted yet
	newest uint64 // the highest counter accepted
	bits   [windowWords]uint64
}

// check reports, without recording anything, whether ctr would be
// accepted. A receiver calls it before decrypting, to spend no AEAD work on
// a replay, and must call accept after the frame authenticates.
func (w *replayWindow) check(ctr uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.checkLocked(ctr)
}

// accept records ctr as delivered, failing if it was already or is too
// old; of two concurrent decryptions of one frame only one is accepted.
func (w *replayWindow) accept(ctr uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkLocked(ctr); err != nil {
		return err
	}
	if !w.seen || ctr > w.newest {
		w.advanceLocked(ctr)
	}
	w.bits[(ctr/64)%windowWords] |= 1 << (ctr % 64)
	return nil
}

func (w *replayWindow) checkLocked(ctr uint64) error {
	switch {
	case !w.seen || ctr > w.newest:
		return nil
	case w.newest-ctr >= ReplayWindow:
		return fmt.Errorf("%w: CTR %d is more than %d behind the newest, %d", ErrReplay, ctr, ReplayWindow, w.newest)
	case w.bits[(ctr/64)%windowWords]&(1<<(ctr%64)) != 0:
		return fmt.Errorf("%w: CTR %d already received", ErrReplay, ctr)
	}
	return nil
}

// advanceLocked makes ctr the newest counter, clearing the words of the
// blocks the window slides over.
func (w *replayWindow) advanceLocked(ctr uint64) {
	if !w.seen || ctr/64-w.newest/64 >= windowWords {
		clear(w.bits[:])
	} else {
		for b := w.newest/64 + 1; b <= ctr/64; b++ {
			w.bits[b%windowWords] = 0
		}
	}
	w.seen, w.newest = true, ctr
}
