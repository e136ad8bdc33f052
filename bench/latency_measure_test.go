//go:build bench

package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/internal/localnet"
)

// latKey is a remote member ("user/device") and an epoch.
type latKey struct {
	from  string
	epoch uint64
}

// latRecorder is a call.SinkFactory that notes when the first decrypted
// frame of each member in each epoch arrived, and how many came. It is
// where every latency here ends: a frame that reached a sink passed
// SFrame authentication under the epoch's key.
type latRecorder struct {
	mu     sync.Mutex
	first  map[latKey]time.Time
	frames map[latKey]int
}

func newLatRecorder() *latRecorder {
	return &latRecorder{first: map[latKey]time.Time{}, frames: map[latKey]int{}}
}

func (r *latRecorder) sinks() call.SinkFactory {
	return func(from call.Member, _ call.MediaKind) (call.Sink, error) {
		return latSink{r: r, from: from.String()}, nil
	}
}

func (r *latRecorder) add(from string, epoch uint64, at time.Time) {
	k := latKey{from, epoch}
	r.mu.Lock()
	if _, ok := r.first[k]; !ok {
		r.first[k] = at
	}
	r.frames[k]++
	r.mu.Unlock()
}

// firstFrom is when the first frame of from in an epoch >= minEpoch was
// decrypted.
func (r *latRecorder) firstFrom(from string, minEpoch uint64) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best time.Time
	for k, t := range r.first {
		if k.from == from && k.epoch >= minEpoch && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	return best, !best.IsZero()
}

// count is the number of frames of from decrypted in epochs >= minEpoch.
func (r *latRecorder) count(from string, minEpoch uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, c := range r.frames {
		if k.from == from && k.epoch >= minEpoch {
			n += c
		}
	}
	return n
}

// total is the number of frames decrypted.
func (r *latRecorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.frames {
		n += c
	}
	return n
}

type latSink struct {
	r    *latRecorder
	from string
}

func (s latSink) WriteFrame(f call.Frame) error {
	s.r.add(s.from, f.Epoch, time.Now())
	return nil
}

func (latSink) Close() error { return nil }

// latBlocks notes when each block height was first seen on any node, by
// polling every node's RPC status every 20 ms: the moment a transaction's
// block became visible, to within the poll.
type latBlocks struct {
	mu   sync.Mutex
	seen map[int64]time.Time
	top  int64
	stop func()
}

func latWatchBlocks(ctx context.Context, n *localnet.Network) *latBlocks {
	ctx, cancel := context.WithCancel(ctx)
	w := &latBlocks{seen: map[int64]time.Time{}}
	var wg sync.WaitGroup
	for i := 0; i < n.Len(); i++ {
		wg.Go(func() {
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if h, err := n.Height(ctx, i); err == nil {
					w.saw(h, time.Now())
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	w.stop = func() { cancel(); wg.Wait() }
	return w
}

func (w *latBlocks) saw(h int64, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.top == 0 {
		w.top = h - 1
	}
	for x := w.top + 1; x <= h; x++ {
		w.seen[x] = at
	}
	w.top = max(w.top, h)
}

// at waits until height h has been seen and returns when it first was.
func (w *latBlocks) at(ctx context.Context, h int64) (time.Time, error) {
	for {
		w.mu.Lock()
		t, ok := w.seen[h]
		w.mu.Unlock()
		if ok {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("block %d never seen: %w", h, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var errLatTimeout = errors.New("timed out")

// latWait polls cond every 25 ms until it holds, limit passes or ctx ends.
// Latencies are never read off this poll: they come from the timestamps
// the sinks, events and block watcher took.
func latWait(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s", errLatTimeout, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return nil
}

// latPercentile is the nearest-rank p-quantile (0 < p <= 1) of ds.
func latPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func latMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latFmt prints 812ms below a second and 1.3s above.
func latFmt(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
