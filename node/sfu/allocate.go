package sfu

import "slices"

// Hysteresis of the choices the relay makes every allocation round.
const (
	// audioMargin, audioSlack: a member takes an audio slot from its
	// weakest holder only when louder than audioMargin × its score +
	// audioSlack.
	audioMargin = 1.25
	audioSlack  = 2
	// dominantMargin: a speaker takes over as dominant from one still
	// speaking only when louder than dominantMargin × its score.
	dominantMargin = 1.5
	// upHeadroom: a subscriber moves up to a layer only when its share of
	// the estimate covers the layer's bit rate × upHeadroom; it stays on
	// a layer as long as the share covers the bit rate.
	upHeadroom = 1.2
)

// speaker is a member and its speech score.
type speaker struct {
	member string
	score  float64
}

// chooseAudio fills audio slots. current holds each slot's member ("" for
// empty); ranked the members speaking now, loudest first, without the
// subscriber; held tells whether a holder may keep its slot (it is
// speaking or was a moment ago) and its score. Holders keep their slots;
// free slots go to the loudest; a challenger displaces the weakest holder
// only when clearly louder (audioMargin, audioSlack).
func chooseAudio(current []string, ranked []speaker, held func(member string) (float64, bool)) []string {
	out := slices.Clone(current)
	placed := map[string]bool{}
	for i, m := range out {
		if m == "" {
			continue
		}
		if _, ok := held(m); !ok {
			out[i] = ""
			continue
		}
		placed[m] = true
	}
	for _, c := range ranked {
		if placed[c.member] {
			continue
		}
		if i := slices.Index(out, ""); i >= 0 {
			out[i] = c.member
			placed[c.member] = true
			continue
		}
		weakest, weakScore := -1, 0.0
		for i, m := range out {
			s, _ := held(m)
			if weakest < 0 || s < weakScore {
				weakest, weakScore = i, s
			}
		}
		if weakest < 0 || c.score <= weakScore*audioMargin+audioSlack {
			break // ranked is loudest first: nobody after c does better
		}
		delete(placed, out[weakest])
		out[weakest] = c.member
		placed[c.member] = true
	}
	return out
}

// videoOrder ranks the members a subscriber should see, Jitsi's last-N
// order: its pins first (in its order), then the meeting's dominant
// speakers, most recent first, then everyone else in join order; never
// self, only members hasVideo accepts; at most n.
func videoOrder(self string, pins, history, joined []string, hasVideo func(string) bool, n int) []string {
	out := make([]string, 0, n)
	seen := map[string]bool{self: true}
	for _, list := range [][]string{pins, history, joined} {
		for _, m := range list {
			if len(out) == n {
				return out
			}
			if seen[m] || !hasVideo(m) {
				continue
			}
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// assignSlots maps the wanted members to slots, leaving each member that
// already has a slot in it (no needless switch) and filling the others
// into free slots in want's order. len(want) ≤ len(current).
func assignSlots(current, want []string) []string {
	out := make([]string, len(current))
	wanted := map[string]bool{}
	for _, m := range want {
		wanted[m] = true
	}
	placed := map[string]bool{}
	for i, m := range current {
		if m != "" && wanted[m] && !placed[m] {
			out[i] = m
			placed[m] = true
		}
	}
	for _, m := range want {
		if placed[m] {
			continue
		}
		if i := slices.Index(out, ""); i >= 0 {
			out[i] = m
			placed[m] = true
		}
	}
	return out
}

// layer is one simulcast layer as the allocator sees it.
type layer struct {
	rid    string
	rate   int // bit/s measured over the last second, 0 before
	active bool
}

// chooseLayer picks the RID to send a subscriber whose share of its
// estimate is budget bit/s: the highest active layer whose bit rate fits
// (a layer above the current one must fit with upHeadroom to spare), or
// the lowest active layer when none fits. layers are lowest first. It
// returns "" when no layer is active.
func chooseLayer(layers []layer, current string, budget int) string {
	cur := slices.IndexFunc(layers, func(l layer) bool { return l.rid == current && l.active })
	best := ""
	for i, l := range layers {
		if !l.active {
			continue
		}
		if best == "" {
			best = l.rid
			continue
		}
		need := float64(l.rate)
		if cur >= 0 && i > cur {
			need *= upHeadroom
		}
		if need <= float64(budget) {
			best = l.rid
		}
	}
	return best
}
