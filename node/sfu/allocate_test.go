package sfu

import (
	"slices"
	"testing"
)

func TestChooseAudio(t *testing.T) {
	scores := map[string]float64{"a": 40, "b": 30, "c": 20, "d": 10, "e": 23}
	held := func(m string) (float64, bool) { s, ok := scores[m]; return s, ok }
	rank := func(names ...string) []speaker {
		var out []speaker
		for _, n := range names {
			out = append(out, speaker{n, scores[n]})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		current []string
		ranked  []speaker
		want    []string
	}{
		{"fills empty slots loudest first", []string{"", "", ""}, rank("a", "b", "c", "d"), []string{"a", "b", "c"}},
		{"holders keep their slots", []string{"c", "", "b"}, rank("a", "b", "c"), []string{"c", "a", "b"}},
		{"clearly louder displaces the weakest", []string{"d", "b", "c"}, rank("a", "b", "c", "d"), []string{"a", "b", "c"}},
		{"a little louder does not", []string{"c", "b", "a"}, rank("a", "b", "e", "c"), []string{"c", "b", "a"}},
		{"gone holders free their slot", []string{"x", "b", ""}, rank("b"), []string{"", "b", ""}},
		{"no speakers, no audio", []string{"", ""}, nil, []string{"", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chooseAudio(tc.current, tc.ranked, held); !slices.Equal(got, tc.want) {
				t.Fatalf("chooseAudio = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVideoOrder(t *testing.T) {
	all := func(string) bool { return true }
	joined := []string{"a", "b", "c", "d", "me"}
	for _, tc := range []struct {
		name     string
		pins     []string
		speaking []string
		history  []string
		has      func(string) bool
		n        int
		want     []string
	}{
		{"join order", nil, nil, nil, all, 2, []string{"a", "b"}},
		{"pins first", []string{"d"}, nil, nil, all, 2, []string{"d", "a"}},
		{"then recent speakers", nil, nil, []string{"c", "b"}, all, 3, []string{"c", "b", "a"}},
		{"pins before speakers", []string{"d"}, nil, []string{"c"}, all, 3, []string{"d", "c", "a"}},
		// Three speak at once and only one is dominant: all three are
		// seen before the history of who spoke earlier.
		{"speaking now before the history", nil, []string{"c", "a", "b"}, []string{"d", "c"}, all, 3, []string{"c", "a", "b"}},
		{"pins before those speaking", []string{"d"}, []string{"c", "a"}, nil, all, 2, []string{"d", "c"}},
		{"never self", []string{"me"}, []string{"me"}, []string{"me"}, all, 5, []string{"a", "b", "c", "d"}},
		{"only members with video", nil, []string{"a"}, nil, func(m string) bool { return m != "a" }, 2, []string{"b", "c"}},
		{"unknown pins ignored", []string{"zz"}, nil, nil, func(m string) bool { return m != "zz" }, 1, []string{"a"}},
		{"no slots", nil, nil, nil, all, 0, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := videoOrder("me", tc.pins, tc.speaking, tc.history, joined, tc.has, tc.n); !slices.Equal(got, tc.want) {
				t.Fatalf("videoOrder = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAssignSlots(t *testing.T) {
	for _, tc := range []struct {
		name          string
		current, want []string
		out           []string
	}{
		{"empty", []string{"", ""}, []string{"a", "b"}, []string{"a", "b"}},
		{"members stay put", []string{"b", "a"}, []string{"a", "b"}, []string{"b", "a"}},
		{"newcomer takes the freed slot", []string{"x", "a"}, []string{"c", "a"}, []string{"c", "a"}},
		{"fewer wanted", []string{"a", "b"}, []string{"b"}, []string{"", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := assignSlots(tc.current, tc.want); !slices.Equal(got, tc.out) {
				t.Fatalf("assignSlots = %q, want %q", got, tc.out)
			}
		})
	}
}

func TestChooseLayer(t *testing.T) {
	layers := []layer{{"q", 100_000, true}, {"h", 300_000, true}, {"f", 1_000_000, true}}
	for _, tc := range []struct {
		name    string
		layers  []layer
		current string
		budget  int
		want    string
	}{
		{"plenty", layers, "", 5_000_000, "f"},
		{"fits h", layers, "", 500_000, "h"},
		{"nothing fits: lowest", layers, "f", 10_000, "q"},
		{"up needs headroom", layers, "q", 320_000, "q"},
		{"up with headroom", layers, "q", 360_000, "h"},
		{"stays without headroom", layers, "h", 300_000, "h"},
		{"down when it no longer fits", layers, "h", 299_000, "q"},
		{"inactive layers skipped", []layer{{"q", 100_000, true}, {"h", 300_000, false}, {"f", 1_000_000, false}}, "f", 5_000_000, "q"},
		{"unmeasured layers fit", []layer{{"q", 0, true}, {"h", 0, true}, {"f", 0, true}}, "", 1, "f"},
		{"none active", []layer{{"q", 0, false}}, "", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chooseLayer(tc.layers, tc.current, tc.budget); got != tc.want {
				t.Fatalf("chooseLayer = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLevelMeter(t *testing.T) {
	var l levelMeter
	for range 4 {
		for range 5 {
			l.observe(30) // -30 dBov, no V bit
		}
		l.tick()
	}
	if s := l.tick(); s < speakingScore {
		t.Fatalf("steady -30 dBov scores %v over three of four buckets, want speaking", s)
	}
	for range 4 {
		l.tick() // nothing received: decays
	}
	if s := l.tick(); s != 0 {
		t.Fatalf("silence scores %v", s)
	}
	l.observe(0x80 | 20) // V set: from now on, no V is silence
	l.observe(20)
	if s := l.tick(); s != float64(silenceLevel-20)/2/levelBuckets {
		t.Fatalf("score %v", s)
	}
}
