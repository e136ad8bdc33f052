package sfu

import "sync"

// Speech detection, a simplification of Jitsi's dominant speaker
// identification (Volfin and Cohen): instead of its three time scales and
// likelihood ratios, one window of levelBuckets buckets of one tick each
// (400 ms at the relay's 100 ms tick). Each RFC 6464 level (0..127, in
// -dBov, lower is louder) becomes an activity of silenceLevel - level,
// zero at or below the silence floor; a bucket is the mean activity of its
// packets (zero with no packets, so muted or DTX audio decays), and a
// member's score is the mean of the window's buckets. A member whose score
// reaches speakingScore is speaking.
const (
	levelBuckets  = 4
	silenceLevel  = 70 // -70 dBov and quieter is silence
	speakingScore = 8  // mean activity of speech: about -62 dBov steadily
)

// levelMeter smooths one audio source's levels. observe runs on the
// source's reader, tick on the relay's; the lock is held for a few adds.
type levelMeter struct {
	mu      sync.Mutex
	sum     int
	n       int
	buckets [levelBuckets]float64
	next    int
	score   float64
	vadSeen bool
}

// observe takes one packet's audio level extension byte: V (bit 7), then
// the level. A sender that ever set V is taken at its word: packets
// without V are silence.
func (l *levelMeter) observe(ext byte) {
	voice, level := ext&0x80 != 0, int(ext&0x7f)
	l.mu.Lock()
	defer l.mu.Unlock()
	if voice {
		l.vadSeen = true
	}
	a := silenceLevel - level
	if a < 0 || (l.vadSeen && !voice) {
		a = 0
	}
	l.sum += a
	l.n++
}

// tick closes the current bucket and returns the window's score.
func (l *levelMeter) tick() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	mean := 0.0
	if l.n > 0 {
		mean = float64(l.sum) / float64(l.n)
	}
	l.buckets[l.next] = mean
	l.next = (l.next + 1) % levelBuckets
	l.sum, l.n = 0, 0
	total := 0.0
	for _, b := range l.buckets {
		total += b
	}
	l.score = total / levelBuckets
	return l.score
}
