package framesig

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// KeyFor resolves the device key of the member that sends under (epoch,
// kid) in the verified roster; ok is false if no member does.
type KeyFor func(epoch, kid uint64) (pub ed25519.PublicKey, ok bool)

// Verifier checks received frames against their senders' signed batches
// and says which (epoch, KID)s to stop trusting.
type Verifier struct {
	keyFor       KeyFor
	prefix       []byte
	now          func() time.Time
	base         time.Time
	missingAfter int64

	mu      sync.Mutex
	dg      digester
	senders map[sender]*state
	pending int   // frames pending in all senders
	cuts    []Cut // made since the last Sweep, at most MaxSenders
	stats   Stats
}

// NewVerifier returns a Verifier for the meeting meetingID (16 bytes) on the
// chain chainID (1 to 255 bytes) that takes senders' keys from keyFor. It
// takes WithClock and WithMissingAfter.
//
// keyFor is called from Message without the Verifier's lock held; it must
// be safe to call from every goroutine that calls Message.
func NewVerifier(chainID string, meetingID []byte, keyFor KeyFor, opts ...Option) (*Verifier, error) {
	if keyFor == nil {
		return nil, fmt.Errorf("%w: nil keyFor", ErrInvalidArgument)
	}
	prefix, err := signedPrefix(chainID, meetingID)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Verifier{
		keyFor: keyFor, prefix: prefix, now: o.now, base: o.now(), missingAfter: int64(o.missingAfter),
		dg: newDigester(), senders: make(map[sender]*state),
	}, nil
}

// signedKeep: signed digests are kept this many times MissingAfter.
const signedKeep = 4

func (v *Verifier) clock() int64 { return int64(v.now().Sub(v.base)) }

// Frame records a frame that decrypted under (epoch, kid) with counter ctr
// — frame is the sealed frame exactly as received — and says whether it is
// Verified, Pending or to Drop. Call it for every frame that decrypted,
// before playing it.
func (v *Verifier) Frame(epoch, kid, ctr uint64, frame []byte) Verdict {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := sender{epoch, kid}
	st := v.senders[id]
	if st != nil && st.cut != nil {
		v.stats.Dropped++
		return Drop
	}
	now := v.clock()
	d := v.dg.digest(frame)
	if st == nil {
		if !v.room(true) {
			v.stats.Dropped++
			return Drop
		}
		st = newState()
		v.senders[id] = st
	}
	if signed, ok := st.signedDigest(ctr, now); ok {
		if signed == d {
			v.stats.Verified++
			return Verified
		}
		v.cut(id, st, fmt.Errorf("%w: frame %d of epoch %d KID %d differs from the digest its batch signed", ErrForged, ctr, epoch, kid))
		v.stats.Dropped++
		return Drop
	}
	if p, ok := st.pending[ctr]; ok {
		if p.digest == d {
			return Pending // the same frame again
		}
		v.cut(id, st, fmt.Errorf("%w: two different frames under counter %d of epoch %d KID %d", ErrForged, ctr, epoch, kid))
		v.stats.Dropped++
		return Drop
	}
	verdict := Pending
	if st.held {
		verdict = Hold
	}
	if len(st.pending) >= MaxPendingPerKID {
		v.cut(id, st, fmt.Errorf("%w: more than %d frames of epoch %d KID %d pending", ErrUnsigned, MaxPendingPerKID, epoch, kid))
		v.stats.Dropped++
		return Drop
	}
	if v.pending >= MaxPending {
		// Every pending frame must end verified or cut, so room is made by
		// cutting the stream that holds the most: a flooder's, not an
		// honest sender's few hundred.
		most := v.mostPending()
		v.cut(most, v.senders[most], fmt.Errorf("%w: %d frames pending in all, the most under epoch %d KID %d", ErrUnsigned, MaxPending, most.epoch, most.kid))
		if most == id {
			v.stats.Dropped++
			return Drop
		}
	}
	st.pending[ctr] = pendingFrame{digest: d, at: now}
	v.pending++
	return verdict
}

// Settled says what became of a frame Frame answered Hold: Verified once a
// valid batch covers it with the same digest (play it now), Drop when its
// (epoch, KID) was cut or it went unsigned past MissingAfter (never play
// it), Hold while its batch may still come.
func (v *Verifier) Settled(epoch, kid, ctr uint64, frame []byte) Verdict {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := sender{epoch, kid}
	st := v.senders[id]
	if st == nil || st.cut != nil {
		return Drop
	}
	now := v.clock()
	d := v.dg.digest(frame)
	if signed, ok := st.signedDigest(ctr, now); ok {
		if signed != d {
			v.cut(id, st, fmt.Errorf("%w: frame %d of epoch %d KID %d differs from the digest its batch signed", ErrForged, ctr, epoch, kid))
			return Drop
		}
		if _, ok := st.pending[ctr]; ok {
			delete(st.pending, ctr)
			v.pending--
		}
		return Verified
	}
	if p, ok := st.pending[ctr]; ok && p.digest == d {
		return Hold
	}
	return Drop
}

// Message checks a signature message from the relay and applies its batch.
// It returns an error wrapping ErrMalformed, ErrUnknownSender or
// ErrBadSignature for a message it refuses, which changes nothing but
// Stats. A valid message returns nil, even when it cuts a KID (a digest
// differing from a frame received or from another valid batch): Sweep and
// Cut report that.
func (v *Verifier) Message(msg []byte) error {
	m, err := parseMessage(msg)
	if err != nil {
		return v.refuse(&v.stats.Malformed, err)
	}
	pub, ok := v.keyFor(m.epoch, m.kid)
	if !ok {
		return v.refuse(&v.stats.UnknownSender, fmt.Errorf("%w: epoch %d KID %d", ErrUnknownSender, m.epoch, m.kid))
	}
	if len(pub) != ed25519.PublicKeySize {
		return v.refuse(&v.stats.UnknownSender, fmt.Errorf("%w: epoch %d KID %d has a key of %d bytes", ErrUnknownSender, m.epoch, m.kid, len(pub)))
	}
	signed := make([]byte, 0, len(v.prefix)+len(m.batch))
	signed = append(append(signed, v.prefix...), m.batch...)
	if !ed25519.Verify(pub, signed, m.sig) {
		return v.refuse(&v.stats.BadSignature, fmt.Errorf("%w: batch of epoch %d KID %d counters %d..%d", ErrBadSignature, m.epoch, m.kid, m.first, m.first+uint64(m.n-1)))
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	v.stats.MessagesOK++
	id := sender{m.epoch, m.kid}
	st := v.senders[id]
	if st == nil {
		if !v.room(false) {
			return nil // nothing pending to check, and no room to keep digests
		}
		st = newState()
		v.senders[id] = st
	}
	if st.cut != nil {
		return nil
	}
	now := v.clock()
	// Kept longer than a frame may wait for its batch: under load a
	// batch can overtake its frames by seconds on the relay's data
	// channel. SignedWindow bounds what is kept all the same.
	until := now + signedKeep*v.missingAfter
	for i := range m.n {
		ctr, d := m.first+uint64(i), m.digest(i)
		if signed, ok := st.signedDigest(ctr, now); ok && signed != d {
			v.cut(id, st, fmt.Errorf("%w: two digests for counter %d of epoch %d KID %d", ErrEquivocated, ctr, m.epoch, m.kid))
			return nil
		}
		if p, ok := st.pending[ctr]; ok {
			if p.digest != d {
				v.cut(id, st, fmt.Errorf("%w: frame %d of epoch %d KID %d differs from the digest its batch signed", ErrForged, ctr, m.epoch, m.kid))
				return nil
			}
			delete(st.pending, ctr)
			v.pending--
			v.stats.Verified++
		}
		st.keep(ctr, d, now, until)
	}
	return nil
}

// refuse counts a refused message.
func (v *Verifier) refuse(counter *uint64, err error) error {
	v.mu.Lock()
	*counter++
	v.mu.Unlock()
	return err
}

// Sweep cuts every (epoch, KID) with a frame received more than
// MissingAfter ago that no valid batch covers, forgets what has expired,
// and returns every cut made since the previous Sweep, by Frame, Message or
// itself, sorted by epoch and KID. Call it about every 100 ms.
func (v *Verifier) Sweep() []Cut {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.clock()
	for id, st := range v.senders {
		if st.cut == nil {
			if ctr, at, ok := st.oldestPending(); ok && now-at > v.missingAfter {
				v.hold(id, st, now, fmt.Errorf("%w: frame %d of epoch %d KID %d received %v ago, no valid batch covers it", ErrUnsigned, ctr, id.epoch, id.kid, time.Duration(now-at)))
			}
		}
		if st.signed != nil && now >= st.signedUntil {
			st.signed = nil
		}
		if st.idle() && st.signed == nil {
			delete(v.senders, id)
		}
	}
	cuts := v.cuts
	v.cuts = nil
	slices.SortFunc(cuts, func(a, b Cut) int {
		switch {
		case sender{a.Epoch, a.KID}.less(sender{b.Epoch, b.KID}):
			return -1
		case sender{b.Epoch, b.KID}.less(sender{a.Epoch, a.KID}):
			return 1
		}
		return 0
	})
	return cuts
}

// Cut reports whether (epoch, kid) is cut, and why.
func (v *Verifier) Cut(epoch, kid uint64) (reason error, cut bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if st := v.senders[sender{epoch, kid}]; st != nil && st.cut != nil {
		return st.cut, true
	}
	return nil, false
}

// Stats returns the Verifier's counters.
func (v *Verifier) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.Pending = v.pending
	return s
}

// hold puts id on hold for reason: the frames that went unsigned were
// played, so they are given up as unverified, and from now on its frames
// play only once verified. A held id's pending frames were never played:
// those past MissingAfter simply expire.
func (v *Verifier) hold(id sender, st *state, now int64, reason error) {
	if st.held {
		for ctr, p := range st.pending {
			if now-p.at > v.missingAfter {
				delete(st.pending, ctr)
				v.pending--
				v.stats.HeldExpired++
			}
		}
		return
	}
	st.held = true
	v.stats.Unverified += uint64(len(st.pending))
	v.pending -= len(st.pending)
	st.pending = make(map[uint64]pendingFrame)
	v.stats.Held++
	if len(v.cuts) < MaxSenders {
		v.cuts = append(v.cuts, Cut{Epoch: id.epoch, KID: id.kid, Reason: reason, Held: true})
	}
}

// cut marks id cut for reason and gives up what it held.
func (v *Verifier) cut(id sender, st *state, reason error) {
	st.cut = reason
	v.stats.Unverified += uint64(len(st.pending))
	v.pending -= len(st.pending)
	st.pending = nil
	st.signed = nil
	switch {
	case errors.Is(reason, ErrForged):
		v.stats.CutForged++
	case errors.Is(reason, ErrEquivocated):
		v.stats.CutEquivocated++
	default:
		v.stats.CutUnsigned++
	}
	if len(v.cuts) < MaxSenders {
		v.cuts = append(v.cuts, Cut{Epoch: id.epoch, KID: id.kid, Reason: reason})
	}
}

// room makes room in the table for one more state, if it is full, by
// dropping an idle state (it holds only kept digests), the lowest (epoch,
// KID) first; for a frame, failing that, by forgetting the cut state of the
// lowest epoch, whose keys a receiver is the least likely still to hold.
// A state with frames pending is never dropped: they would go unjudged.
func (v *Verifier) room(forFrame bool) bool {
	if len(v.senders) < MaxSenders {
		return true
	}
	victim, found := v.lowest(func(st *state) bool { return st.idle() })
	if !found && forFrame {
		// A cut state, or a held one with nothing pending: forgetting it
		// lets that KID play unverified frames again (for MissingAfter),
		// the least harm among full tables.
		victim, found = v.lowest(func(st *state) bool { return st.cut != nil || (st.held && len(st.pending) == 0) })
	}
	if found {
		delete(v.senders, victim)
	}
	return found
}

func (v *Verifier) lowest(match func(*state) bool) (sender, bool) {
	var low sender
	found := false
	for id, st := range v.senders {
		if match(st) && (!found || id.less(low)) {
			low, found = id, true
		}
	}
	return low, found
}

// mostPending returns the sender with the most frames pending (the lowest
// among equals).
func (v *Verifier) mostPending() sender {
	var most sender
	n := -1
	for id, st := range v.senders {
		if len(st.pending) > n || (len(st.pending) == n && id.less(most)) {
			most, n = id, len(st.pending)
		}
	}
	return most
}
