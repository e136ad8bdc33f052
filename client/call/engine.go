package call

import (
	"context"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/framesig"
	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/bwe"
	"github.com/parleynet/parley/internal/ids"
)

// engineState is where an Engine is in its one-way life.
type engineState int

const (
	stateIdle     engineState = iota // made, Run not called
	stateRunning                     // Run is running
	stateStopping                    // Run is shutting down
	stateClosed                      // keys erased; nothing runs
)

// Engine runs one device's side of a meeting's calls: a full mesh of pion
// peer connections with every other member of the current epoch, signalled
// through sealed, signed messages, with every media frame SFrame-encrypted
// end to end. Make it with NewEngine, tell it each epoch with SetEpoch,
// run it with Run and stop it with Close. Its methods are safe for
// concurrent use.
type Engine struct {
	cfg     Config
	self    ids.DeviceRef
	log     logging.LeveledLogger
	api     *webrtc.API
	cert    webrtc.Certificate
	fp      string // "sha-256 AB:..." of cert
	sender  *sframe.Sender
	keyring *sframe.Keyring
	tracks  map[MediaKind]*webrtc.TrackLocalStaticSample
	// layers are the camera's simulcast tracks of the relay link, when
	// its source is a SimulcastSource (simulcast.go); nil otherwise.
	layers [NumLayers]*webrtc.TrackLocalStaticSample

	view        atomic.Pointer[rosterView]        // current and previous roster
	ownKeys     atomic.Pointer[[]hpke.PrivateKey] // SetOwnKeys; nil: Config.EphemeralKey
	peerList    atomic.Pointer[[]*peer]           // the loop's peers, for the media path and Stats
	sig         signalCounters
	events      eventQueue
	relays      relayState    // Reach.Relays' latest answer
	bwes        *bwe.Registry // congestion controllers of new connections
	kf          keyframes     // peers' key-frame requests
	transitions transitionCounters
	sealed      [Screen + 1]sealedCheck                                                       // SendSealed's per-track scratch (index: kind)
	rxTap       atomic.Pointer[func(from ids.DeviceRef, kind MediaKind, frame []byte) []byte] // tests only

	// The relay (relaylink.go): its API, the link for the media path,
	// what the relay path counts, this device's frame signatures and the
	// verifier of everyone else's.
	relayAPI   *webrtc.API
	relayCur   atomic.Pointer[relayLink]
	relayStats mediaCounters
	layerStats [NumLayers]layerCounters                // frames sent on each camera layer
	layerSSRCs ssrcRIDs                                // the links' camera layers, for sdesInterceptor
	peerIndex  atomic.Pointer[map[ids.DeviceRef]*peer] // peerList by ID
	audioLevel atomic.Uint32                           // RFC 6464 level of the latest audio frame
	pins       atomic.Pointer[[]string]
	sendMu     sync.Mutex // from encryption to the signer, so frames reach it in counter order
	signer     *framesig.Signer
	sigsSent   atomic.Uint64
	cutsMu     sync.Mutex
	cuts       []string // RelayStats.Cuts

	mu      sync.Mutex // guards state, cancel, runDone; serialises SetEpoch
	state   engineState
	cancel  context.CancelCauseFunc
	runDone chan struct{}
	// wg counts every goroutine the engine owns. Goroutines started by
	// pion's callbacks join it only through tryAdd, under mu, while the
	// state is running, so that no Add races the Wait in shutdown.
	wg       sync.WaitGroup
	outboxWG sync.WaitGroup

	// Owned by Run's goroutine.
	peers   map[ids.DeviceRef]*peer
	applied *rosterView // the view the peers were last reconciled to
	replay  sigReplay
	pending []*pendingSignal
	// stagedSince is when the applied epoch's key transition started (for
	// the log).
	stagedSince time.Time
	keysSession SessionID // drawn once: the session of this engine's keys signals
	sendCtx     context.Context
	sendCancel  context.CancelFunc
	// The relay link and its dialing.
	relay        *relayLink
	relayDialing bool
	relayRetryAt time.Time
	relaySkip    string
}

// NewEngine checks cfg and prepares an engine: a DTLS certificate, the
// pion API, the local tracks and empty SFrame keys. Nothing runs until Run.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	opts := []sframe.Option{sframe.WithAutoSweep(), sframe.WithGrace(cfg.Grace)}
	sender, err := sframe.NewSender(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	keyring, err := sframe.NewKeyring(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	bwes := bwe.NewRegistry()
	api, err := newMeshAPI(cfg.SettingEngine, bwes, cfg.InitialBitrate, cfg.MaxBitrate)
	if err != nil {
		return nil, err
	}
	cert, err := newCertificate()
	if err != nil {
		return nil, err
	}
	fp, err := certFingerprint(cert)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:     cfg,
		self:    ids.DeviceRef{User: cfg.UserID, Device: cfg.DeviceID},
		log:     cfg.LoggerFactory.NewLogger("parley-call"),
		api:     api,
		cert:    *cert,
		fp:      fp,
		sender:  sender,
		keyring: keyring,
		tracks:  make(map[MediaKind]*webrtc.TrackLocalStaticSample, len(mediaKinds)),
		peers:   make(map[ids.DeviceRef]*peer),
		events:  newEventQueue(),
		bwes:    bwes,
		kf:      newKeyframes(),
	}
	_, _ = rand.Read(e.keysSession[:])
	e.audioLevel.Store(levelSilence)
	if cfg.MediaRelay != nil {
		if e.relayAPI, err = newRelayAPI(cfg.SettingEngine, bwes, cfg.InitialBitrate, cfg.MaxBitrate, &e.audioLevel, &e.layerSSRCs); err != nil {
			return nil, err
		}
	}
	if e.signer, err = framesig.NewSigner(cfg.DeviceKey, cfg.ChainID, cfg.MeetingID); err != nil {
		return nil, fmt.Errorf("%w: frame signatures: %w", ErrInvalidConfig, err)
	}

	for _, kind := range mediaKinds {
		t, err := webrtc.NewTrackLocalStaticSample(Capability(kind), kind.String(), streamID)
		if err != nil {
			return nil, fmt.Errorf("%w: %v track: %v", ErrInvalidConfig, kind, err)
		}
		e.tracks[kind] = t
	}
	if e.layers, err = newLayerTracks(&cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// Fingerprint returns the engine's DTLS certificate fingerprint,
// "sha-256 AB:CD:...", as it signs it into its offers and answers.
func (e *Engine) Fingerprint() string { return e.fp }

// SetEpoch installs a new epoch: its keys for sending and receiving at
// once, then, on Run's goroutine, connections to new members and closing
// of connections to removed ones. The previous epoch's receive keys stay
// for the grace window. The engine keeps no copy of ep.Key. It fails with
// ErrInvalidEpoch, ErrNotInRoster, ErrStaleEpoch or ErrClosed.
func (e *Engine) SetEpoch(ep Epoch) error {
	r, err := newRoster(ep, e.maxMembers())
	if err != nil {
		return err
	}
	_, selfIdx, ok := r.lookup(e.self)
	if !ok {
		return fmt.Errorf("%w: %s is not in epoch %d", ErrNotInRoster, e.self, ep.Number)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state >= stateStopping {
		return fmt.Errorf("%w: cannot set epoch %d", ErrClosed, ep.Number)
	}
	old := e.view.Load()
	var prev *roster
	if old != nil {
		prev = old.cur
		if ep.Number <= prev.number {
			return fmt.Errorf("%w: epoch %d, current is %d", ErrStaleEpoch, ep.Number, prev.number)
		}
	}
	if err := e.keyring.SetEpoch(ep.Number, ep.Key, len(r.members)); err != nil {
		return fmt.Errorf("%w: receive keys: %w", ErrInvalidEpoch, err)
	}
	// Frames move to the new key once every member holds it, or after
	// KeyTransition (transition.go).
	if err := e.sender.Stage(ep.Number, ep.Key, uint32(selfIdx)); err != nil { //nolint:gosec // selfIdx < MaxMembers
		return fmt.Errorf("%w: send key: %w", ErrInvalidEpoch, err)
	}
	e.boundTransition(ep.Number)
	e.view.Store(&rosterView{cur: r, prev: prev})
	e.events.push(event{kind: evRoster})
	return nil
}

// Epoch returns the current epoch number, 0 before the first SetEpoch.
func (e *Engine) Epoch() uint64 {
	if v := e.view.Load(); v != nil {
		return v.cur.number
	}
	return 0
}

// Run connects to the current roster and carries the call until ctx is
// done or Close is called; then it closes every connection (telling the
// peers), waits for every goroutine it started and erases the keys. It
// returns nil after Close, ctx's error otherwise. An engine runs once.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	switch e.state {
	case stateRunning:
		e.mu.Unlock()
		return ErrRunning
	case stateStopping, stateClosed:
		e.mu.Unlock()
		return ErrClosed
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e.state, e.cancel, e.runDone = stateRunning, cancel, make(chan struct{})
	e.sendCtx, e.sendCancel = context.WithCancel(context.WithoutCancel(ctx))
	e.mu.Unlock()

	e.startRelays(ctx)
	e.wg.Go(func() { e.watchInterfaces(ctx) })
	for kind, src := range map[MediaKind]Source{Video: e.cfg.Video, Audio: e.cfg.Audio, Screen: e.cfg.Screen} {
		if src != nil {
			e.wg.Go(func() { e.pump(ctx, kind, src) })
		}
	}
	e.loop(ctx)
	e.shutdown()
	close(e.runDone)
	if err := context.Cause(ctx); !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// Close stops Run and waits for it, or, if Run never started, erases the
// keys. The engine cannot be used afterwards. It is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	switch e.state {
	case stateIdle:
		e.state = stateClosed
		e.mu.Unlock()
		e.eraseKeys()
		return nil
	case stateRunning:
		e.cancel(ErrClosed)
	}
	done := e.runDone
	e.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil
}

// tryAdd counts a goroutine that pion started (a track handler) as the
// engine's, unless the engine is no longer running; the caller then calls
// e.wg.Done when it returns.
func (e *Engine) tryAdd() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != stateRunning {
		return false
	}
	e.wg.Add(1)
	return true
}

// shutdown runs on Run's goroutine after the loop: it closes every peer,
// gives the byes a moment to leave, and waits for every goroutine.
func (e *Engine) shutdown() {
	e.mu.Lock()
	e.state = stateStopping
	e.mu.Unlock()

	// peerList keeps the last peers, so Stats after Close reports the
	// final counters.
	for _, p := range e.peers {
		e.removePeer(p)
	}
	e.closeRelay()
	outboxesDone := make(chan struct{})
	go func() { e.outboxWG.Wait(); close(outboxesDone) }()
	t := time.NewTimer(byeTimeout)
	select {
	case <-outboxesDone:
	case <-t.C:
	}
	t.Stop()
	e.sendCancel()
	<-outboxesDone
	e.wg.Wait()
	e.eraseKeys()

	e.mu.Lock()
	e.state = stateClosed
	e.mu.Unlock()
}

func (e *Engine) eraseKeys() {
	e.sender.EraseAll()
	e.keyring.EraseAll()
}

// Stats returns the statistics of every peer of the current roster, sorted
// by "user/device"; after Close, the final counters of the last peers.
func (e *Engine) Stats() []PeerStats {
	list := e.peerList.Load()
	if list == nil {
		return nil
	}
	epoch := e.Epoch()
	out := make([]PeerStats, 0, len(*list))
	for _, p := range *list {
		s := PeerStats{UserID: p.id.User, DeviceID: p.id.Device, Epoch: epoch}
		p.stats.fill(&s)
		if c := p.cur.Load(); c != nil {
			s.Session = c.session.String()
			s.State = c.pc.ConnectionState().String()
			s.RTT = rttOf(c.pc)
			s.Restarts = c.restarts.Load()
			if path := c.path.Load(); path != nil {
				s.Path = *path
			}
			if c.bwe != nil && c.connected.Load() {
				s.TargetBitrate = c.bwe.GetTargetBitrate()
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b PeerStats) int {
		if offers(ids.DeviceRef{User: a.UserID, Device: a.DeviceID}, ids.DeviceRef{User: b.UserID, Device: b.DeviceID}) {
			return -1
		}
		return 1
	})
	return out
}

// RestartICE restarts ICE on every connection now, keeping the sessions:
// for a caller that knows the path changed while this device's addresses
// did not (when they change, the engine replaces the sessions itself).
func (e *Engine) RestartICE() { e.events.push(event{kind: evNetwork}) }

// SignalStats returns the signalling counters.
func (e *Engine) SignalStats() SignalStats { return e.sig.snapshot() }

// KeyStats returns the SFrame keyring's own counters over all peers.
func (e *Engine) KeyStats() sframe.StatsSnapshot { return e.keyring.Stats() }
