package framesig

const (
	// MaxPending is the most frames a Verifier holds waiting for their
	// batch, in all.
	MaxPending = 4096
	// MaxPendingPerKID is the most frames a Verifier holds waiting for
	// their batch under one (epoch, KID).
	MaxPendingPerKID = 1024
	// SignedWindow is how many signed digests a Verifier keeps per
	// (epoch, KID), by counter, for frames that arrive after their batch.
	SignedWindow = MaxBatch
	// MaxSenders is the most (epoch, KID)s a Verifier follows at once.
	MaxSenders = 256
)

// sender names the stream of frames a Verifier follows: counters start
// again each epoch and KIDs repeat every 256 epochs.
type sender struct{ epoch, kid uint64 }

func (a sender) less(b sender) bool {
	if a.epoch != b.epoch {
		return a.epoch < b.epoch
	}
	return a.kid < b.kid
}

// Times inside a Verifier are nanoseconds since its creation on its clock.

type pendingFrame struct {
	digest [DigestSize]byte
	at     int64 // when it was received
}

// signedDigest is one slot of a state's window of signed digests.
type signedDigest struct {
	ctr    uint64
	until  int64 // kept while now < until
	used   bool
	digest [DigestSize]byte
}

// state is what a Verifier knows of one (epoch, KID).
type state struct {
	cut         error // the reason, once cut; then nothing else is kept
	held        bool  // its frames play only once verified (Hold), since one went unsigned
	pending     map[uint64]pendingFrame
	signed      []signedDigest // SignedWindow slots indexed by ctr mod SignedWindow; nil when none kept
	signedUntil int64          // every slot has expired by then
}

func newState() *state {
	return &state{pending: make(map[uint64]pendingFrame)}
}

// idle reports whether the state holds nothing that dropping it would lose
// but kept digests.
func (st *state) idle() bool {
	return st.cut == nil && len(st.pending) == 0 && !st.held
}

// signedDigest returns the digest a valid batch signed for ctr, if it is
// still kept.
func (st *state) signedDigest(ctr uint64, now int64) ([DigestSize]byte, bool) {
	if st.signed == nil {
		return [DigestSize]byte{}, false
	}
	e := &st.signed[ctr%SignedWindow]
	if !e.used || e.ctr != ctr || now >= e.until {
		return [DigestSize]byte{}, false
	}
	return e.digest, true
}

// keep stores a signed digest until the given time. When its slot holds
// a live digest of a higher counter, that one stays: the higher counter is
// the likelier to have frames still on the way, and a replay of old
// batches cannot push recent digests out.
func (st *state) keep(ctr uint64, d [DigestSize]byte, now, until int64) {
	if st.signed == nil {
		st.signed = make([]signedDigest, SignedWindow)
	}
	e := &st.signed[ctr%SignedWindow]
	if e.used && now < e.until && e.ctr > ctr {
		return
	}
	*e = signedDigest{ctr: ctr, until: until, used: true, digest: d}
	st.signedUntil = max(st.signedUntil, until)
}

// oldestPending returns the pending frame received first (the lowest
// counter among equals).
func (st *state) oldestPending() (ctr uint64, at int64, ok bool) {
	for c, p := range st.pending {
		if !ok || p.at < at || (p.at == at && c < ctr) {
			ctr, at, ok = c, p.at, true
		}
	}
	return ctr, at, ok
}
