package sfu

import (
	"testing"
	"time"
)

// step is one packet through a munger: from source (a switch when it
// differs from the last), with its numbers, and what should come out.
type step struct {
	rebase  bool
	seq     uint16
	ts      uint32
	padding bool
	marker  bool // the last packet of its frame
	pic     uint16
	at      time.Duration
	wantOK  bool
	wantSeq uint16
	wantTS  uint32
	wantPic uint16
}

func runMunger(t *testing.T, steps []step) {
	t.Helper()
	m := munger{clockRate: 90000, frames: true}
	t0 := time.Unix(1000, 0)
	for i, s := range steps {
		d := vp8Desc{picOff: 2, picBits: 15, pic: s.pic}
		now := t0.Add(s.at)
		if s.rebase {
			m.rebase(s.seq, s.ts, d, now)
		}
		n, ok := m.next(s.seq, s.ts, s.padding, s.marker, d, now)
		if ok != s.wantOK {
			t.Fatalf("step %d: ok %v, want %v", i, ok, s.wantOK)
		}
		if ok && (n.seq != s.wantSeq || n.ts != s.wantTS || n.pic != s.wantPic) {
			t.Fatalf("step %d: seq %d ts %d pic %d; want %d %d %d", i, n.seq, n.ts, n.pic, s.wantSeq, s.wantTS, s.wantPic)
		}
	}
}

func TestMunger(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first source passes through", []step{
			{rebase: true, seq: 100, ts: 9000, pic: 7, wantOK: true, wantSeq: 100, wantTS: 9000, wantPic: 7},
			{seq: 101, ts: 12000, pic: 8, wantOK: true, wantSeq: 101, wantTS: 12000, wantPic: 8},
		}},
		{"switch continues numbering", []step{
			{rebase: true, seq: 100, ts: 9000, pic: 7, marker: true, wantOK: true, wantSeq: 100, wantTS: 9000, wantPic: 7},
			{rebase: true, seq: 5000, ts: 777, pic: 300, at: 100 * ms, wantOK: true, wantSeq: 101, wantTS: 9000 + 9000, wantPic: 8},
			{seq: 5001, ts: 777 + 3000, pic: 301, at: 133 * ms, wantOK: true, wantSeq: 102, wantTS: 21000, wantPic: 9},
		}},
		{"switch in the middle of a frame leaves a number unused", []step{
			{rebase: true, seq: 100, ts: 9000, pic: 7, wantOK: true, wantSeq: 100, wantTS: 9000, wantPic: 7},
			{rebase: true, seq: 5000, ts: 777, pic: 300, at: 100 * ms, wantOK: true, wantSeq: 102, wantTS: 9000 + 9000, wantPic: 8},
		}},
		{"picture ID wraps", []step{
			{rebase: true, seq: 1, ts: 0, pic: 0x7fff, marker: true, wantOK: true, wantSeq: 1, wantTS: 0, wantPic: 0x7fff},
			{rebase: true, seq: 9, ts: 50, pic: 12, at: 10 * ms, wantOK: true, wantSeq: 2, wantTS: 900, wantPic: 0},
		}},
		{"padding dropped, gap closed", []step{
			{rebase: true, seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 11, padding: true},
			{seq: 12, wantOK: true, wantSeq: 11},
		}},
		{"late packet numbered around a drop", []step{
			{rebase: true, seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 12, wantOK: true, wantSeq: 12}, // 11 is late
			{seq: 13, padding: true},
			{seq: 14, wantOK: true, wantSeq: 13},
			{seq: 11, wantOK: true, wantSeq: 11},
		}},
		{"late packet from before the switch dropped", []step{
			{rebase: true, seq: 10, ts: 0, marker: true, wantOK: true, wantSeq: 10},
			{rebase: true, seq: 500, ts: 0, at: 10 * ms, wantOK: true, wantSeq: 11, wantTS: 900, wantPic: 1},
			{seq: 499},
		}},
		{"duplicate dropped", []step{
			{rebase: true, seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 10},
		}},
		{"sequence wraps", []step{
			{rebase: true, seq: 65535, ts: 0, wantOK: true, wantSeq: 65535},
			{seq: 0, wantOK: true, wantSeq: 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runMunger(t, tc.steps) })
	}
}

// After more drops than the munger remembers, a packet older than all of
// them cannot be numbered and is dropped.
func TestMungerForgetsOldDrops(t *testing.T) {
	steps := []step{{rebase: true, seq: 0, wantOK: true, wantSeq: 0}, {seq: 2, wantOK: true, wantSeq: 2}}
	for i := range dropRing + 1 {
		steps = append(steps, step{seq: uint16(3 + i), padding: true})
	}
	steps = append(steps, step{seq: 1})
	runMunger(t, steps)
}
