package sframe

import (
	"errors"
	"testing"
)

func TestReplayWindow(t *testing.T) {
	const W = ReplayWindow
	tests := []struct {
		name     string
		accepted []uint64 // counters delivered first, in order
		ctr      uint64
		replay   bool
	}{
		{"first frame", nil, 0, false},
		{"first frame, high counter", nil, 1 << 40, false},
		{"next", []uint64{0}, 1, false},
		{"duplicate of newest", []uint64{0, 1}, 1, true},
		{"duplicate of older", []uint64{0, 1, 2}, 0, true},
		{"late but unseen", []uint64{0, 2}, 1, false},
		{"gap then fill", []uint64{10, 500}, 11, false},
		{"oldest in window", []uint64{W - 1}, 0, false},
		{"just out of window", []uint64{W}, 0, true},
		{"far out of window", []uint64{10 * W}, 5, true},
		{"seen, then window moved one block", []uint64{0, 64}, 0, true},
		{"seen at window edge after many moves", []uint64{100, 200, 300, 100 + W - 1}, 100, true},
		{"unseen at window edge", []uint64{200, 100 + W - 1}, 100, false},
		{"oldest after a jump past the ring", []uint64{5, 5 + 64*windowWords}, 5 + 64*windowWords - W + 1, false},
		{"stale bit of a reused word", []uint64{5, 5 + 64*(windowWords-1), 12 + 64*windowWords}, 5 + 64*windowWords, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w replayWindow
			for _, c := range tt.accepted {
				if err := w.accept(c); err != nil {
					t.Fatalf("setup accept(%d): %v", c, err)
				}
			}
			err := w.check(tt.ctr)
			if got := errors.Is(err, ErrReplay); got != tt.replay {
				t.Fatalf("check(%d) = %v, want replay %v", tt.ctr, err, tt.replay)
			}
			if err := w.accept(tt.ctr); errors.Is(err, ErrReplay) != tt.replay {
				t.Fatalf("accept(%d) = %v", tt.ctr, err)
			}
			if !tt.replay {
				if err := w.accept(tt.ctr); !errors.Is(err, ErrReplay) {
					t.Fatalf("second accept(%d) = %v, want ErrReplay", tt.ctr, err)
				}
			}
		})
	}
}

// TestReplayWindowExhaustive compares the window with a set of every
// counter seen, over a long pseudo-random walk of jumps and late arrivals.
func TestReplayWindowExhaustive(t *testing.T) {
	var w replayWindow
	seen := map[uint64]bool{}
	var newest uint64
	x := uint64(1)
	for range 200000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var ctr uint64
		switch x % 4 {
		case 0:
			ctr = newest + x%200
		default:
			ctr = newest - min(newest, x%(ReplayWindow+100))
		}
		want := !seen[ctr] && (len(seen) == 0 || ctr > newest || newest-ctr < ReplayWindow)
		err := w.accept(ctr)
		if (err == nil) != want {
			t.Fatalf("accept(%d) with newest %d = %v, want ok=%v", ctr, newest, err, want)
		}
		if err == nil {
			seen[ctr] = true
			newest = max(newest, ctr)
		}
	}
}
