package sfu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/internal/bwe"
	"github.com/parleynet/parley/internal/ids"
)

// tickEvery is the relay's clock for speech scores, allocation, key frame
// retries and slot messages.
const tickEvery = 100 * time.Millisecond

// recheckParallel bounds the StillMember calls in flight.
const recheckParallel = 8

// Relay is the selective forwarding relay. Join admits a member's
// connection, Run keeps the choices and the membership current, Close
// ends everything. Run must be running for a relay to serve: slots are
// chosen, and members rechecked, on its clock.
type Relay struct {
	cfg  Config
	api  *webrtc.API
	bwes *bwe.Registry
	log  logging.LeveledLogger

	// estimate is Config.Estimate; tests of the package may replace it
	// on a running relay (export_test.go).
	estimateFn atomic.Pointer[func(member ids.DeviceRef) int]

	ctx    context.Context // ends at Close: StillMember calls use it
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup // every goroutine the relay starts

	// cascade links the relay with peer relays; nil without Config.Peers.
	cascade *cascade

	mu       sync.Mutex
	closed   bool
	running  bool
	meetings map[string]*meeting
	count    int                                 // committed sessions and Joins under way
	live     map[*session]struct{}               // sessions whose connection is not closed yet
	linkPCs  map[*webrtc.PeerConnection]struct{} // peer links' connections not closed yet

	stats counters
}

// New makes a relay. It starts nothing: Join admits, Run runs.
func New(cfg Config) (*Relay, error) {
	cfg = cfg.withDefaults()
	se := *cfg.SettingEngine
	if se.LoggerFactory == nil {
		se.LoggerFactory = cfg.LoggerFactory
	}
	bwes := bwe.NewRegistry()
	api, err := newAPI(se, bwes)
	if err != nil {
		return nil, fmt.Errorf("sfu: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		cfg:      cfg,
		api:      api,
		bwes:     bwes,
		log:      cfg.LoggerFactory.NewLogger("sfu"),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		meetings: map[string]*meeting{},
		live:     map[*session]struct{}{},
		linkPCs:  map[*webrtc.PeerConnection]struct{}{},
	}
	if cfg.Peers != nil {
		r.cascade = newCascade(r, cfg.Peers)
	}
	if cfg.Estimate != nil {
		r.estimateFn.Store(&cfg.Estimate)
	}
	return r, nil
}

// estimate is the bit rate the relay may send s: its congestion
// controller's target, unless a test overrides it (Config.Estimate).
func (r *Relay) estimate(s *session) int {
	if f := r.estimateFn.Load(); f != nil {
		if b := (*f)(s.key); b > 0 {
			return b
		}
	}
	if s.bwe == nil {
		return initialBitrate
	}
	return s.bwe.GetTargetBitrate()
}

// Run keeps the relay current until ctx ends, then closes it: every
// tickEvery it scores speech, reallocates slots and layers, retries key
// frame requests and tells subscribers their slots; every RecheckEvery it
// asks StillMember about each session and drops those no longer members;
// it drops sessions that never connect. Call it once.
func (r *Relay) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.running {
		r.mu.Unlock()
		return fmt.Errorf("sfu: Run called twice")
	}
	r.running = true
	r.mu.Unlock()
	defer r.Close()

	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	recheck := time.NewTicker(r.cfg.RecheckEvery)
	defer recheck.Stop()
	var rechecking atomic.Bool
	for n := uint64(0); ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-r.done:
			return nil
		case <-tick.C:
			r.tick(n)
		case <-recheck.C:
			if rechecking.CompareAndSwap(false, true) && !r.spawn(func() {
				defer rechecking.Store(false)
				r.recheck()
			}) {
				return nil
			}
		}
	}
}

// tick runs one round for every meeting, flushes slot messages, drops
// sessions that did not connect in time, and keeps the links with peer
// relays current.
func (r *Relay) tick(n uint64) {
	now := r.cfg.Now()
	for _, m := range r.meetingList() {
		m.tick(now, n)
	}
	if r.cascade != nil {
		r.cascade.tick(now, n)
	}
	for _, s := range r.sessionList() {
		s.flushSlots()
		if !s.connected.Load() && now.Sub(s.created) > connectTimeout {
			s.close("did not connect within " + connectTimeout.String())
		}
	}
}

// recheck asks StillMember about every session, a few at a time, and
// drops those it says no to. An error is not a no.
func (r *Relay) recheck() {
	var g errgroup.Group
	g.SetLimit(recheckParallel)
	for _, s := range r.sessionList() {
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(r.ctx, max(r.cfg.RecheckEvery, time.Second))
			defer cancel()
			ok, err := r.cfg.StillMember(ctx, s.meeting.id, s.key.User, s.key.Device)
			switch {
			case err != nil:
				r.log.Warnf("meeting %x: cannot recheck %s, keeping it: %v", s.meeting.id, s.name, err)
			case !ok:
				s.close("no longer a member (StillMember said no)")
			}
			return nil
		})
	}
	_ = g.Wait()
}

// Drop closes the member's session now, if it has one.
func (r *Relay) Drop(meetingID []byte, user, device string) {
	r.mu.Lock()
	m := r.meetings[string(meetingID)]
	r.mu.Unlock()
	if m == nil {
		return
	}
	m.mu.Lock()
	s := m.sessions[ids.DeviceRef{User: user, Device: device}]
	m.mu.Unlock()
	if s != nil {
		s.close("dropped by the caller")
	}
}

// Close closes every session and waits for the relay's goroutines. It is
// idempotent. A relay with push links to peer relays first drains: media
// stop going to them at once, and for drainDelay the sessions stay and
// their opaque messages still go, so that peer relays' members get the
// signatures of the last frames they got.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.wg.Wait()
		return nil
	}
	r.closed = true
	close(r.done)
	r.cancel()
	r.mu.Unlock()

	if r.cascade != nil && r.cascade.drain() {
		r.log.Infof("closing: media to peer relays stopped; their links carry signatures for %v more", drainDelay)
		time.Sleep(drainDelay)
	}
	for _, s := range r.sessionList() {
		s.close("relay closing")
	}
	if r.cascade != nil {
		r.cascade.closeAll()
	}
	r.mu.Lock()
	pcs := make([]*session, 0, len(r.live))
	for s := range r.live {
		pcs = append(pcs, s)
	}
	links := make([]*webrtc.PeerConnection, 0, len(r.linkPCs))
	for pc := range r.linkPCs {
		links = append(links, pc)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range pcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.pc.Close()
			r.untrack(s)
		}()
	}
	for _, pc := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = pc.Close()
			r.untrackPC(pc)
		}()
	}
	wg.Wait()
	r.wg.Wait()
	return nil
}

// spawn runs f in a goroutine the relay waits for at Close; false, and f
// does not run, once the relay is closed.
func (r *Relay) spawn(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
	return true
}

// track records a session's connection for Close; false once closed.
func (r *Relay) track(s *session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.live[s] = struct{}{}
	return true
}

func (r *Relay) untrack(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, s)
}

// trackPC records a peer link's connection for Close; false once
// closed.
func (r *Relay) trackPC(pc *webrtc.PeerConnection) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.linkPCs[pc] = struct{}{}
	return true
}

func (r *Relay) untrackPC(pc *webrtc.PeerConnection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.linkPCs, pc)
}

// closeLinkPC closes a peer link's connection in the background; once
// the relay is closing, Close does it.
func (r *Relay) closeLinkPC(pc *webrtc.PeerConnection) {
	r.spawn(func() {
		_ = pc.Close()
		r.untrackPC(pc)
	})
}

// closeLinkPCLater closes a peer link's connection drainDelay from now,
// in the background: frame signatures sent after the last frames the link
// carried still go through. Once the relay is closing, Close does it.
func (r *Relay) closeLinkPCLater(pc *webrtc.PeerConnection) {
	r.spawn(func() {
		t := time.NewTimer(drainDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.done:
			return
		}
		_ = pc.Close()
		r.untrackPC(pc)
	})
}

// closePC closes a session's connection in the background; once the
// relay is closing, Close does it.
func (r *Relay) closePC(s *session) {
	r.spawn(func() {
		_ = s.pc.Close()
		r.untrack(s)
	})
}

// reserve counts a Join under way against the caps and returns its
// meeting. A member already in the meeting is replaced, so it is not held
// to the caps.
func (r *Relay) reserve(id []byte, key ids.DeviceRef) (*meeting, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	m := r.meetings[string(id)]
	if m == nil {
		m = newMeeting(r, id)
	}
	m.mu.Lock()
	_, rejoin := m.sessions[key]
	size := len(m.sessions)
	m.mu.Unlock()
	if !rejoin {
		if r.count >= r.cfg.MaxSessions {
			return nil, fmt.Errorf("%w: %d sessions", ErrFull, r.cfg.MaxSessions)
		}
		if size+m.pending >= r.cfg.MaxPerMeeting {
			return nil, fmt.Errorf("%w: %d sessions in meeting %x", ErrMeetingFull, r.cfg.MaxPerMeeting, id)
		}
	}
	r.meetings[m.key] = m
	r.count++
	m.pending++
	return m, nil
}

// release gives back what reserve took: a committed session's place when
// it leaves, or a failed Join's reservation. An empty meeting is
// forgotten.
func (r *Relay) release(m *meeting, committed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count--
	if !committed {
		m.pending--
	}
	r.forgetLocked(m)
}

// forgetIfEmpty forgets a meeting left with no members at all, once its
// links with peer relays have taken their members away.
func (r *Relay) forgetIfEmpty(m *meeting) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgetLocked(m)
}

// forgetLocked forgets m if it has no member, own or remote, and no Join
// under way. relay.mu.
func (r *Relay) forgetLocked(m *meeting) {
	m.mu.Lock()
	empty := len(m.sessions) == 0 && len(m.order) == 0
	m.mu.Unlock()
	if empty && m.pending == 0 && r.meetings[m.key] == m {
		delete(r.meetings, m.key)
	}
}

// committed turns a reservation into a member's place.
func (r *Relay) committed(m *meeting) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.pending--
}

func (r *Relay) meetingList() []*meeting {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*meeting, 0, len(r.meetings))
	for _, m := range r.meetings {
		out = append(out, m)
	}
	return out
}

// sessionList is every committed session of the relay's own still in
// its meeting (members of peer relays are not sessions of this relay).
func (r *Relay) sessionList() []*session {
	var out []*session
	for _, m := range r.meetingList() {
		m.mu.Lock()
		for _, s := range m.order {
			if s.remote == nil {
				out = append(out, s)
			}
		}
		m.mu.Unlock()
	}
	return out
}

// served returns the meeting with id if the relay has sessions of its
// own in it, else nil.
func (r *Relay) served(id []byte) *meeting {
	r.mu.Lock()
	m := r.meetings[string(id)]
	r.mu.Unlock()
	if m == nil || !m.serving() {
		return nil
	}
	return m
}

// servedMeetings is every meeting the relay has sessions of its own in,
// by key.
func (r *Relay) servedMeetings() map[string]*meeting {
	out := map[string]*meeting{}
	for _, m := range r.meetingList() {
		if m.serving() {
			out[m.key] = m
		}
	}
	return out
}
