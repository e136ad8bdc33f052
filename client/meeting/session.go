package meeting

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// SessionChain is what a running session needs of the chain: proven reads
// (Reader), transactions with proven outcomes, and the newest height as a
// cheap, unproven signal that something may have changed.
type SessionChain interface {
	Chain
	// BroadcastIncluded returns once a node says the transaction is in a
	// block; ProveTx proves that outcome a block later (see early.go).
	BroadcastIncluded(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
	ProveTx(ctx context.Context, res *sdk.TxResponse) (verify.TxOutcome, error)
	Height(ctx context.Context) (int64, error)
}

// Errors that end a session.
var (
	ErrEnded   = errors.New("meeting ended")
	ErrRemoved = errors.New("this device is no longer in the meeting's roster")
	// ErrNotConfirmed: an epoch the call was already using, read from the
	// newest block, did not verify against that block's header. The call
	// ends (naming the node, which the client has left): join again.
	ErrNotConfirmed = errors.New("an epoch in use did not verify against its block's header")
)

// Config configures a session of one device in one meeting.
type Config struct {
	Chain     SessionChain
	Mailbox   Mailbox
	Device    Device
	MeetingID []byte
	// Eph is this device's ephemeral key store; the session loads its key
	// for the meeting from it (and stores a new one when it claims leadership).
	Eph EphStore
	// Admit decides, for the leader, which pending requests to admit; nil
	// admits every pending request (the chain already enforced the allowlist).
	Admit func(meetingtypes.JoinRequest) bool
	// Passcode, when set, admits only requests whose sealed field proves
	// it (see SealPasscode); checked by the leader, never on chain.
	Passcode string
	// Control, when set, is read every block for removals asked from the
	// command line (Control.RequestRemoval).
	Control *Control
	// MaxMembers is the most members the call carries (the mesh: 8); the
	// leader admits no more and tells the others why. 0: no bound here.
	MaxMembers int
	// RotateEvery is the leader's periodic rekey; default 5 minutes.
	RotateEvery time.Duration
	// Poll is how often the chain is read; default 100 ms (blocks are ~300 ms).
	Poll time.Duration
	// Contacts, when set, remembers the devices of people met and warns
	// when someone met before appears with a new device (EventKeyChange).
	Contacts Contacts
	// OnEvent receives what happens; it must not block.
	OnEvent func(Event)
	// OnEpoch receives each verified epoch, key included, on the session's
	// goroutine; the key is cleared when it returns, so whoever needs it
	// copies it (the call engine derives its SFrame keys at once).
	OnEpoch func(Epoch)
	// OnOwnKeys, when set, is told this device's ephemeral private keys
	// whenever they change (a rotation, a claim): the keys that open what
	// is sealed to this device now, the newest first.
	OnOwnKeys func([]hpke.PrivateKey)
	// OnSignal receives the call signalling (KindSignal) delivered to this
	// device's ephemeral key; it must not block. Nil drops them.
	OnSignal func(Delivery)
}

// Session runs one device's part of a meeting: as a member it receives and
// checks each epoch's key; as leader it admits, removes and rotates.
type Session struct {
	cfg  Config
	dir  *directory
	wake chan struct{}

	mu           sync.Mutex
	eph          hpke.PrivateKey
	ephPrev      hpke.PrivateKey // the key before a rotation, until an epoch sealed to eph
	ephCand      hpke.PrivateKey // a rotation's key whose transaction's fate is unknown, until a roster lists it
	rotated      uint64          // the epoch this device last rotated its key after
	keyMade      time.Time       // when this device's current key was made (session start, a rotation)
	last         installedKey    // the newest installed epoch
	installed    uint64          // highest epoch whose key is installed
	code         string
	envs         envBuffer                       // key envelopes waiting for their epoch to be proven
	notices      []Delivery                      // the leader's notices, checked at the next proven step
	senders      map[DeviceRef]ed25519.PublicKey // devices key envelopes may come from, with their proven keys
	dropsSeen    uint64                          // envelope drops already reported
	dropsAt      time.Time
	removals     map[DeviceRef]bool // removed by the leader (when there is no Control), for the meeting's life
	screened     map[DeviceRef]bool // leader: pending requests it has checked: true when the passcode proof failed
	rotate       bool
	lastKey      time.Time
	subCancel    context.CancelFunc
	wasMember    bool
	early        *earlyEpoch     // an epoch installed from tentative reads, until its header confirms them
	unproven     *unprovenCommit // this leader's commit, installed before its outcome was proven
	leader       *leaderState    // nil unless this device leads
	provenLeader DeviceRef       // the meeting's leader as the last proven step read it
	claimed      bool            // a claim was sent and told (EventLeader{Claimed}); the leader state is not yet made
	lobbyTold    bool            // EventLobby was reported
	lobbyNow     bool            // the last proven step read a meeting before its start (lobby.go)
}

// NewSession prepares a session; Run runs it.
func NewSession(cfg Config) (*Session, error) {
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = 5 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	if cfg.OnEpoch == nil {
		cfg.OnEpoch = func(Epoch) {}
	}
	eph, err := cfg.Eph.Load(cfg.MeetingID, cfg.Device)
	if err != nil {
		return nil, err
	}
	return &Session{
		cfg: cfg, eph: eph, keyMade: time.Now(), dir: newDirectory(), wake: make(chan struct{}, 1),
		envs: envBuffer{now: time.Now}, senders: map[DeviceRef]ed25519.PublicKey{}, removals: map[DeviceRef]bool{}, screened: map[DeviceRef]bool{},
	}, nil
}

// EphemeralKey returns this device's current ephemeral private key in the
// meeting (it changes when the device rotates it or claims leadership).
func (s *Session) EphemeralKey() hpke.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eph
}

// EphemeralKeys returns the keys that open what is sealed to this device
// now: the current one and, for a while after a rotation, the previous.
func (s *Session) EphemeralKeys() []hpke.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ephKeysLocked()
}

// ephKeysLocked is EphemeralKeys with s.mu held.
func (s *Session) ephKeysLocked() []hpke.PrivateKey {
	if s.eph == nil {
		return nil // erased: the session is over
	}
	keys := []hpke.PrivateKey{s.eph}
	for _, k := range []hpke.PrivateKey{s.ephPrev, s.ephCand} {
		if k != nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// ownKeysChanged tells Config.OnOwnKeys the keys now in use.
func (s *Session) ownKeysChanged() {
	if s.cfg.OnOwnKeys != nil {
		if keys := s.EphemeralKeys(); len(keys) > 0 {
			s.cfg.OnOwnKeys(keys)
		}
	}
}

// keyFor returns this device's key whose SHA-256 is hash (current,
// previous or a rotation's not yet known to have landed), or nil.
func (s *Session) keyFor(hash []byte) hpke.PrivateKey {
	for _, k := range s.EphemeralKeys() {
		if h := meetingtypes.EphKeyHash(k.PublicKey().Bytes()); bytes.Equal(h, hash) {
			return k
		}
	}
	return nil
}

// Epoch returns the newest installed epoch number (0 before the first).
func (s *Session) Epoch() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installed
}

// Leader returns the meeting's leader as the session's last proven read
// names it (zero before the first step).
func (s *Session) Leader() DeviceRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.provenLeader
}

// Code returns the current epoch's security code.
func (s *Session) Code() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// Remove asks the leader's session to drop a member at the next epoch.
// The removal stands for the meeting's life: the device asking again is
// shown as removed earlier and admitted only after Readmit, whatever the
// admission policy.
func (s *Session) Remove(userID, deviceID string) {
	if s.cfg.Control != nil {
		if err := s.cfg.Control.RequestRemoval(userID, deviceID); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: DeviceRef{User: userID, Device: deviceID}.String(), Err: fmt.Errorf("recording the removal: %w", err)})
		}
	}
	s.mu.Lock()
	s.removals[DeviceRef{User: userID, Device: deviceID}] = true
	s.mu.Unlock()
	s.poke()
}

// Readmit lifts a removal: the device's next request is admitted by the
// admission policy again (the explicit decision Remove asks for).
func (s *Session) Readmit(userID, deviceID string) {
	if s.cfg.Control != nil {
		if err := s.cfg.Control.Approve(userID, deviceID); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: DeviceRef{User: userID, Device: deviceID}.String(), Err: fmt.Errorf("recording the re-admission: %w", err)})
		}
	}
	s.mu.Lock()
	delete(s.removals, DeviceRef{User: userID, Device: deviceID})
	s.mu.Unlock()
	s.poke()
}

// RemovedEarlier says whether the leader removed the device and has not
// let it back in.
func (s *Session) RemovedEarlier(userID, deviceID string) bool {
	ref := DeviceRef{User: userID, Device: deviceID}
	if s.cfg.Control != nil && s.cfg.Control.Removed(userID, deviceID) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removals[ref]
}

// Screened reports whether the leader's session has checked the device's
// pending request (its passcode proof, when the meeting has a passcode),
// and whether it refused it for a wrong passcode. A page asks the host
// only about requests screened and not refused, so that nobody is asked
// to admit a request the client refuses anyway. A new request with the
// right passcode clears the refusal at the next block.
func (s *Session) Screened(userID, deviceID string) (screened, wrongPasscode bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wrong, ok := s.screened[DeviceRef{User: userID, Device: deviceID}]
	return ok, wrong
}

// markScreened records the verdict on ref's pending request and returns
// whether it was refused for its passcode before (reported then).
func (s *Session) markScreened(ref DeviceRef, wrongPasscode bool) (wasWrong bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wasWrong = s.screened[ref]
	s.screened[ref] = wrongPasscode
	return wasWrong
}

// Rotate asks the leader's session for a new epoch with the same members.
func (s *Session) Rotate() {
	s.mu.Lock()
	s.rotate = true
	s.mu.Unlock()
	s.poke()
}

// poke makes Run step at once instead of at the next block.
func (s *Session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run drives the session until ctx ends, the meeting ends (ErrEnded) or
// this device is removed (ErrRemoved).
func (s *Session) Run(ctx context.Context) error {
	// One step first: the member learns whom key envelopes may come from
	// before the mailbox delivers what it holds.
	if err := s.step(ctx); isFinal(err) {
		return s.finish(err)
	} else if err != nil && ctx.Err() == nil {
		s.cfg.OnEvent(EventProblem{Peer: "chain", Err: err})
	}
	if err := s.subscribe(ctx); err != nil {
		return err
	}
	defer func() { s.subCancel() }()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	var lastHeight int64
	for {
		woken := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-s.wake:
			woken = true
		}
		h, err := s.cfg.Chain.Height(ctx)
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "node", Err: err})
			continue
		}
		if h == lastHeight && !woken {
			continue
		}
		lastHeight = h
		if err := s.step(ctx); isFinal(err) {
			return s.finish(err)
		} else if err != nil && ctx.Err() == nil {
			s.cfg.OnEvent(EventProblem{Peer: "chain", Err: err})
		}
	}
}

// finish erases this device's ephemeral keys of a meeting it is out of
// (removed, ended, refused): nothing sealed to them later may open.
func (s *Session) finish(err error) error {
	if eerr := s.cfg.Eph.Erase(s.cfg.MeetingID, s.cfg.Device); eerr != nil {
		s.cfg.OnEvent(EventProblem{Peer: "key store", Err: fmt.Errorf("erasing the ephemeral key: %w", eerr)})
	}
	s.mu.Lock()
	s.eph, s.ephPrev, s.ephCand = nil, nil, nil
	s.mu.Unlock()
	return err
}

// isFinal says whether a step's error ends the session.
func isFinal(err error) bool {
	return errors.Is(err, ErrEnded) || errors.Is(err, ErrRemoved) || errors.Is(err, ErrWrongPasscode) || errors.Is(err, ErrNotConfirmed)
}

// subscribe (re)starts the mailbox subscriptions for this device's
// ephemeral keys (the current one, and the previous after a rotation).
func (s *Session) subscribe(ctx context.Context) error {
	if s.subCancel != nil {
		s.subCancel()
	}
	subCtx, cancel := context.WithCancel(ctx)
	s.subCancel = cancel
	for _, k := range s.EphemeralKeys() {
		ch, err := s.cfg.Mailbox.Subscribe(subCtx, k, s.cfg.MeetingID)
		if err != nil {
			cancel()
			return fmt.Errorf("mailbox subscription: %w", err)
		}
		go func() {
			for d := range ch {
				s.deliver(d)
			}
		}()
	}
	return nil
}

// deliver takes one delivery from the mailbox.
func (s *Session) deliver(d Delivery) {
	if d.Kind == KindSignal {
		if s.cfg.OnSignal != nil {
			s.cfg.OnSignal(d)
		}
		return
	}
	if d.Kind == KindNotice {
		// Only notices signed by an expected sender's proven key are kept
		// (a flood of forged ones cannot push the leader's out); the next
		// proven step checks the sender still leads and the request.
		s.mu.Lock()
		pub, ok := s.senders[DeviceRef{User: d.FromUser, Device: d.FromDevice}]
		keep := ok && len(s.notices) < 4 && s.noticeSigned(d, pub)
		if keep {
			s.notices = append(s.notices, d)
		}
		s.mu.Unlock()
		if keep {
			s.poke()
		}
		return
	}
	if d.Kind != KindMeetingKey {
		return
	}
	var env keyschedule.Envelope
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := env.Unmarshal(d.Body); err != nil {
		s.envs.drops.Unreadable++
		return
	}
	if env.Epoch <= s.installed {
		return // late: its epoch is installed or superseded
	}
	sender := DeviceRef{User: env.SenderUser, Device: env.SenderDevice}
	pub, ok := s.senders[sender]
	switch {
	case !ok:
		s.envs.drops.NotExpected++
		return
	case !env.SignedBy(sender.User, sender.Device, pub):
		s.envs.drops.BadSignature++
		return
	}
	if s.envs.add(sender, env.Epoch, d) {
		s.poke() // the epoch may already be proven: try at once
	}
}

// expectKeysFrom sets the devices a member keeps key envelopes from: the
// leader and the members of its newest epoch (one of whom may claim
// leadership), with their proven device keys.
func (s *Session) expectKeysFrom(devs map[DeviceRef]ed25519.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.senders = devs
}

// reportDrops tells, at most every 10 s, how many key envelopes were
// refused since the last report.
func (s *Session) reportDrops() {
	s.mu.Lock()
	d := s.envs.drops
	due := d.Total() > s.dropsSeen && time.Since(s.dropsAt) >= 10*time.Second
	if due {
		s.dropsSeen, s.dropsAt = d.Total(), time.Now()
	}
	s.mu.Unlock()
	if due {
		s.cfg.OnEvent(EventProblem{Peer: "mailbox", Err: fmt.Errorf("refused key envelopes: %s", d)})
	}
}

// EnvelopeDrops returns how many key envelopes the session refused, by
// reason.
func (s *Session) EnvelopeDrops() EnvelopeDrops {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.envs.drops
}

// step reads the meeting: proven for ending, membership and keys; as
// leader also tentatively (see leader.go).
func (s *Session) step(ctx context.Context) error {
	snap, err := s.cfg.Chain.Reader().Latest(ctx)
	if err != nil {
		return err
	}
	m, err := snap.Meeting(ctx, s.cfg.MeetingID)
	if err != nil {
		return err
	}
	if m.Status == meetingtypes.Status_STATUS_ENDED {
		s.cfg.OnEvent(EventEnded{})
		return ErrEnded
	}
	s.reportDrops()
	s.tellLobby(snap, m)
	if err := s.confirmEarly(ctx, snap); err != nil {
		return err
	}
	if err := s.proveCommit(ctx, snap); err != nil {
		return err
	}
	if err := s.memberStep(ctx, snap, m); err != nil {
		return err
	}
	s.installEarly(ctx, snap, m)
	if err := s.leaderStep(ctx); err != nil {
		return err
	}
	return s.maybeRotate(ctx)
}

func (s *Session) self() DeviceRef {
	return DeviceRef{User: s.cfg.Device.UserID, Device: s.cfg.Device.DeviceID}
}

// ksContext is the key schedule's context of an epoch, checked once for
// everything the key schedule then does with it.
func (s *Session) ksContext(epoch uint64, rosterHash []byte) (keyschedule.Context, error) {
	return keyschedule.NewContext(s.cfg.Chain.ChainID(), s.cfg.MeetingID, epoch, rosterHash)
}

// listsKey reports whether hash is the hash of k's public key.
func listsKey(hash []byte, k hpke.PrivateKey) bool {
	return k != nil && bytes.Equal(hash, meetingtypes.EphKeyHash(k.PublicKey().Bytes()))
}

// install hands a verified epoch down and clears its key; selfHash is the
// hash of this device's ephemeral key as the epoch's roster lists it.
func (s *Session) install(ep Epoch, kctx keyschedule.Context, commitment, selfHash []byte) error {
	defer clear(ep.Key)
	code, err := keyschedule.SecurityCode(kctx, commitment)
	if err != nil {
		return err
	}
	ep.Code = code
	s.mu.Lock()
	s.installed, s.code, s.lastKey, s.wasMember = ep.Number, code, time.Now(), true
	current := listsKey(selfHash, s.eph)
	landed := !current && listsKey(selfHash, s.ephCand)
	if landed {
		// A rotation whose transaction's fate was unknown did land.
		s.ephPrev, s.eph, s.ephCand = s.eph, s.ephCand, nil
		current = true
	}
	s.last = installedKey{number: ep.Number, reason: ep.Reason, current: current}
	s.envs.dropThrough(ep.Number)
	leader := s.leader != nil
	s.mu.Unlock()
	if landed {
		if err := s.cfg.Eph.Promote(s.cfg.MeetingID, s.cfg.Device); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "key store", Err: fmt.Errorf("storing the rotated ephemeral key: %w", err)})
		}
		s.ownKeysChanged()
	}
	expect := map[DeviceRef]ed25519.PublicKey{ep.Leader: nil}
	for _, m := range ep.Members {
		expect[m.DeviceRef] = m.DevicePub
	}
	if expect[ep.Leader] == nil {
		delete(expect, ep.Leader) // re-learnt from the next proven step
	}
	s.expectKeysFrom(expect)
	s.checkContacts(&ep)
	s.cfg.OnEpoch(ep)
	s.cfg.OnEvent(EventKey{Epoch: ep.Number, Code: code, Members: ep.Members, SenderIndex: ep.Self})
	if s.cfg.Control != nil {
		st := Status{Role: "member", Epoch: ep.Number, Code: code, Updated: time.Now().UTC()}
		if leader {
			st.Role = "leader"
		}
		for _, m := range ep.Members {
			st.Members = append(st.Members, m.String())
		}
		if err := s.cfg.Control.WriteStatus(st); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "status file", Err: err})
		}
	}
	return nil
}
