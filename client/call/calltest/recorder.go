package calltest

import (
	"sync"

	"github.com/parleynet/parley/client/call"
)

// Recorder is a SinkFactory target that remembers, per sending member and
// kind, how many frames it was given in each epoch and whether any
// (KID, counter) came twice.
type Recorder struct {
	mu     sync.Mutex
	tracks map[recordKey]*record
}

type recordKey struct {
	from string
	kind call.MediaKind
}

type record struct {
	byEpoch map[uint64]int
	seen    map[[2]uint64]bool
	dups    int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{tracks: make(map[recordKey]*record)} }

// Sinks returns the factory to put in Config.Sinks.
func (r *Recorder) Sinks() call.SinkFactory {
	return func(from call.Member, kind call.MediaKind) (call.Sink, error) {
		return &recSink{r: r, k: recordKey{from.String(), kind}}, nil
	}
}

// Frames returns how many frames from "user/device" of kind were delivered
// in epoch, or in any epoch if epoch is 0.
func (r *Recorder) Frames(from string, kind call.MediaKind, epoch uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.tracks[recordKey{from, kind}]
	if rec == nil {
		return 0
	}
	if epoch != 0 {
		return rec.byEpoch[epoch]
	}
	n := 0
	for _, c := range rec.byEpoch {
		n += c
	}
	return n
}

// Total returns how many frames from "user/device" were delivered, all
// kinds and epochs.
func (r *Recorder) Total(from string) int {
	return r.Frames(from, call.Video, 0) + r.Frames(from, call.Audio, 0) + r.Frames(from, call.Screen, 0)
}

// EpochsFrom returns the epochs of which frames from "user/device" came.
func (r *Recorder) EpochsFrom(from string) map[uint64]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[uint64]int)
	for k, rec := range r.tracks {
		if k.from == from {
			for e, c := range rec.byEpoch {
				out[e] += c
			}
		}
	}
	return out
}

// Duplicates returns how many delivered frames repeated a (KID, counter).
func (r *Recorder) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.tracks {
		n += rec.dups
	}
	return n
}

type recSink struct {
	r *Recorder
	k recordKey
}

func (s *recSink) WriteFrame(f call.Frame) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	rec := s.r.tracks[s.k]
	if rec == nil {
		rec = &record{byEpoch: make(map[uint64]int), seen: make(map[[2]uint64]bool)}
		s.r.tracks[s.k] = rec
	}
	id := [2]uint64{f.KID, f.Counter}
	if rec.seen[id] {
		rec.dups++
	}
	rec.seen[id] = true
	rec.byEpoch[f.Epoch]++
	return nil
}

func (s *recSink) Close() error { return nil }
