package sfu

import (
	"slices"
	"time"
)

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
// order: its pins first (in its order), then the members speaking now
// (loudest first: several can speak at once, and only one is dominant),
// then the meeting's dominant speakers, most recent first, then everyone
// else in join order; never self, only members hasVideo accepts; at
// most n.
func videoOrder(self string, pins, speaking, history, joined []string, hasVideo func(string) bool, n int) []string {
	out := make([]string, 0, n)
	seen := map[string]bool{self: true}
	for _, list := range [][]string{pins, speaking, history, joined} {
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

// speechLocked updates each member's speech score and the dominant
// speaker; it reports whether the dominant speaker changed. A speaker
// takes over from a dominant one still speaking only when clearly louder
// (dominantMargin).
func (m *meeting) speechLocked(now time.Time) bool {
	var best *session
	for _, s := range m.order {
		if s.audio == nil || m.shadowedLocked(s) {
			s.score = 0
			continue
		}
		s.score = s.audio.level.tick()
		if s.score >= speakingScore {
			s.lastLoud = now
			if best == nil || s.score > best.score {
				best = s
			}
		}
	}
	if best == nil || best.name == m.dominant {
		return false
	}
	if dom := m.byName[m.dominant]; dom != nil && dom.score >= speakingScore && best.score <= dom.score*dominantMargin {
		return false
	}
	m.dominant = best.name
	m.history = slices.DeleteFunc(m.history, func(n string) bool { return n == best.name })
	m.history = slices.Insert(m.history, 0, best.name)
	return true
}

// loudestFirst sorts speakers by score, loudest first, keeping the
// meeting's order among equals.
func loudestFirst(ranked []speaker) {
	slices.SortStableFunc(ranked, func(a, b speaker) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
}

// allocateAudioLocked chooses each subscriber's audio slots: the loudest
// speakers but itself, with hysteresis (chooseAudio).
func (m *meeting) allocateAudioLocked(now time.Time) {
	var ranked []speaker
	for _, s := range m.order {
		if s.audio != nil && s.score >= speakingScore && !m.shadowedLocked(s) {
			ranked = append(ranked, speaker{s.name, s.score})
		}
	}
	loudestFirst(ranked)
	held := func(name string) (float64, bool) {
		s := m.byName[name]
		if s == nil || s.audio == nil {
			return 0, false
		}
		if s.score >= speakingScore || now.Sub(s.lastLoud) < audioHangover {
			return s.score, true
		}
		return 0, false
	}
	for _, sub := range m.order {
		if len(sub.audioSlots) == 0 || !sub.dcOpen.Load() {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(ranked), func(sp speaker) bool { return sp.member == sub.name })
		current := make([]string, len(sub.audioSlots))
		for i, d := range sub.audioSlots {
			if t := d.target(); t != nil && t.owner == m.byName[t.owner.name] {
				current[i] = t.owner.name
			}
		}
		for i, name := range chooseAudio(current, others, held) {
			var src *source
			if name != "" {
				src = m.byName[name].audio
			}
			sub.audioSlots[i].setTarget(src, now)
		}
	}
}

// reallocateLocked chooses every subscriber's video and screen slots.
func (m *meeting) reallocateLocked(now time.Time) {
	joined, hasVideo, speaking := m.joined(), m.hasVideo(now), m.speakingNow(now)
	for _, sub := range m.order {
		m.allocateVideoLocked(sub, speaking, joined, hasVideo, now)
		m.allocateScreenLocked(sub, now)
	}
}

// speakingNow is the members speaking now or a moment ago (within
// audioHangover, as audio slots are held), loudest first. meeting.mu.
func (m *meeting) speakingNow(now time.Time) []string {
	var ranked []speaker
	for _, s := range m.order {
		if s.audio != nil && !m.shadowedLocked(s) && (s.score >= speakingScore || now.Sub(s.lastLoud) < audioHangover) {
			ranked = append(ranked, speaker{s.name, s.score})
		}
	}
	loudestFirst(ranked)
	out := make([]string, len(ranked))
	for i, sp := range ranked {
		out[i] = sp.member
	}
	return out
}

// joined is the members in join order. meeting.mu.
func (m *meeting) joined() []string {
	out := make([]string, 0, len(m.order))
	for _, s := range m.order {
		if !m.shadowedLocked(s) {
			out = append(out, s.name)
		}
	}
	return out
}

// hasVideo tells whether a member's camera sent lately. meeting.mu.
func (m *meeting) hasVideo(now time.Time) func(string) bool {
	return func(name string) bool {
		s := m.byName[name]
		if s == nil {
			return false
		}
		for _, c := range s.camera {
			if c.active(now, videoIdle) {
				return true
			}
		}
		return false
	}
}

// allocateVideoLocked fills sub's video slots in last-N order
// (videoOrder), keeping members in the slots they have, and picks each
// one's simulcast layer from sub's share of its estimate.
func (m *meeting) allocateVideoLocked(sub *session, speaking, joined []string, hasVideo func(string) bool, now time.Time) {
	n := len(sub.videoSlots)
	if n == 0 || !sub.dcOpen.Load() {
		return
	}
	want := videoOrder(sub.name, sub.pins, speaking, m.history, joined, hasVideo, n)
	current := make([]string, n)
	for i, d := range sub.videoSlots {
		if t := d.target(); t != nil {
			current[i] = t.owner.name
		}
	}
	assigned := assignSlots(current, want)
	budget := m.relay.estimate(sub) / max(len(want), 1)
	for i, d := range sub.videoSlots {
		var src *source
		if name := assigned[i]; name != "" {
			pub := m.byName[name]
			rid := ""
			if t := d.target(); t != nil && t.owner == pub {
				rid = t.rid
			}
			src = pub.cameraLayer(rid, budget, now)
		}
		if d.setTarget(src, now) && src.requestKeyframe() {
			m.relay.stats.pliRequested.Add(1)
		}
	}
}

// cameraLayer is the camera source to send a subscriber with budget
// bit/s for it, now on layer rid.
func (s *session) cameraLayer(rid string, budget int, now time.Time) *source {
	if len(s.camera) == 1 && s.camera[0].rid == "" {
		return s.camera[0]
	}
	layers := make([]layer, len(s.camera))
	for i, c := range s.camera {
		layers[i] = layer{rid: c.rid, rate: int(c.rate.Load()), active: c.active(now, layerIdle)}
	}
	pick := chooseLayer(layers, rid, budget)
	for _, c := range s.camera {
		if c.rid == pick {
			return c
		}
	}
	return nil
}

// allocateScreenLocked gives sub's screen slot the most recently started
// screen share but its own.
func (m *meeting) allocateScreenLocked(sub *session, now time.Time) {
	if sub.screenSlot == nil || !sub.dcOpen.Load() {
		return
	}
	var best *source
	for _, s := range m.order {
		if s.name == sub.name || s.screen == nil || m.shadowedLocked(s) || !s.screen.active(now, videoIdle) {
			continue
		}
		if best == nil || s.screen.started.Load() > best.started.Load() {
			best = s.screen
		}
	}
	if sub.screenSlot.setTarget(best, now) && best.requestKeyframe() {
		m.relay.stats.pliRequested.Add(1)
	}
}
