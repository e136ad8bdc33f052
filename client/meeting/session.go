package meeting

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/keyschedule"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// SessionChain is what a running session needs of a node.
type SessionChain interface {
	Chain
	Identity() identitytypes.QueryClient
	Height(ctx context.Context) (int64, error)
}

// Errors that end a session.
var (
	ErrEnded   = errors.New("meeting ended")
	ErrRemoved = errors.New("this device is no longer in the meeting's roster")
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
	// RotateEvery is the leader's periodic rekey; default 5 minutes.
	RotateEvery time.Duration
	// Poll is how often the chain is read; default 100 ms (blocks are ~300 ms).
	Poll time.Duration
	// Grace keeps the previous epoch's key for frames in flight; default 2 s.
	Grace time.Duration
	// OnEvent receives what happens; it must not block.
	OnEvent func(Event)
	// OnSignal receives the call signalling (KindSignal) delivered to this
	// device's ephemeral key; it must not block. Nil drops them.
	OnSignal func(Delivery)
}

// Session runs one device's part of a meeting: as a member it receives and
// checks each epoch's key; as leader it admits, removes and rotates.
type Session struct {
	cfg  Config
	keys *keyschedule.EpochKeys

	mu        sync.Mutex
	eph       hpke.PrivateKey
	installed uint64 // highest epoch whose key is installed
	code      string
	pending   map[uint64][]Delivery // envelopes by epoch, waiting for the chain
	removals  map[string]bool       // "user/device" the leader will drop
	rotate    bool
	lastKey   time.Time
	subCancel context.CancelFunc
	parsed    map[string]hpke.PublicKey // members' ephemeral keys, parsed once
	rejected  map[string]bool           // requests already reported as refused
	wasMember bool
}

// NewSession prepares a session; Run runs it.
func NewSession(cfg Config) (*Session, error) {
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = 5 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.Grace == 0 {
		cfg.Grace = keyschedule.DefaultGrace
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	eph, err := cfg.Eph.Load(cfg.MeetingID, cfg.Device)
	if err != nil {
		return nil, err
	}
	return &Session{
		cfg: cfg, eph: eph, keys: keyschedule.NewEpochKeys(keyschedule.WithGrace(cfg.Grace)),
		pending: map[uint64][]Delivery{}, removals: map[string]bool{}, rejected: map[string]bool{},
	}, nil
}

// EphemeralKey returns this device's current ephemeral private key in the
// meeting (it changes when the device claims leadership).
func (s *Session) EphemeralKey() hpke.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eph
}

// Key returns the current epoch and its meeting key.
func (s *Session) Key() (uint64, []byte, error) { return s.keys.Current() }

// Keys returns the session's epoch key store (current and, during the grace
// window, previous epoch), for the media layer.
func (s *Session) Keys() *keyschedule.EpochKeys { return s.keys }

// Code returns the current epoch's security code.
func (s *Session) Code() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// Remove asks the leader's session to drop a member at the next epoch.
func (s *Session) Remove(userID, deviceID string) {
	s.mu.Lock()
	s.removals[userID+"/"+deviceID] = true
	s.mu.Unlock()
}

// Rotate asks the leader's session for a new epoch with the same members.
func (s *Session) Rotate() {
	s.mu.Lock()
	s.rotate = true
	s.mu.Unlock()
}

// Run drives the session until ctx ends, the meeting ends (ErrEnded) or
// this device is removed (ErrRemoved). Keys are erased on the way out.
func (s *Session) Run(ctx context.Context) error {
	defer s.keys.EraseAll()
	if err := s.subscribe(ctx); err != nil {
		return err
	}
	defer func() { s.subCancel() }()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	var lastHeight int64
	for {
		h, err := s.cfg.Chain.Height(ctx)
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "node", Err: err})
		} else if h != lastHeight {
			lastHeight = h
			if err := s.step(ctx, h); errors.Is(err, ErrEnded) || errors.Is(err, ErrRemoved) {
				return err
			} else if err != nil && ctx.Err() == nil {
				s.cfg.OnEvent(EventProblem{Peer: "chain", Err: err})
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// subscribe (re)starts the mailbox subscription for the current ephemeral key.
func (s *Session) subscribe(ctx context.Context) error {
	if s.subCancel != nil {
		s.subCancel()
	}
	subCtx, cancel := context.WithCancel(ctx)
	s.subCancel = cancel
	ch, err := s.cfg.Mailbox.Subscribe(subCtx, s.eph, s.cfg.MeetingID)
	if err != nil {
		cancel()
		return fmt.Errorf("mailbox subscription: %w", err)
	}
	go func() {
		for d := range ch {
			if d.Kind == KindSignal && s.cfg.OnSignal != nil {
				s.cfg.OnSignal(d)
				continue
			}
			if d.Kind != KindMeetingKey {
				continue
			}
			var env keyschedule.Envelope
			if err := env.Unmarshal(d.Body); err != nil {
				s.cfg.OnEvent(EventProblem{Peer: d.FromUser + "/" + d.FromDevice, Err: fmt.Errorf("unreadable key envelope: %w", err)})
				continue
			}
			s.mu.Lock()
			if env.Epoch > s.installed {
				s.pending[env.Epoch] = append(s.pending[env.Epoch], d)
			}
			s.mu.Unlock()
		}
	}()
	return nil
}

func (s *Session) step(ctx context.Context, height int64) error {
	q := s.cfg.Chain.Meeting()
	res, err := q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: s.cfg.MeetingID})
	if err != nil {
		return err
	}
	m := res.Meeting
	if m.Status == meetingtypes.Status_STATUS_ENDED {
		s.cfg.OnEvent(EventEnded{})
		return ErrEnded
	}
	if m.LeaderUser == s.cfg.Device.UserID && m.LeaderDevice == s.cfg.Device.DeviceID {
		return s.leaderStep(ctx, m)
	}
	return s.memberStep(ctx, m, height)
}

// context of an epoch for the key schedule.
func (s *Session) ksContext(epoch uint64, rosterHash []byte) keyschedule.Context {
	return keyschedule.Context{ChainID: s.cfg.Chain.ChainID(), MeetingID: s.cfg.MeetingID, Epoch: epoch, RosterHash: rosterHash}
}

func (s *Session) install(epoch uint64, mk, rosterHash, commitment []byte, members []meetingtypes.Member) error {
	if err := s.keys.Install(epoch, mk); err != nil {
		return err
	}
	code, err := keyschedule.SecurityCode(s.ksContext(epoch, rosterHash), commitment)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.installed, s.code, s.lastKey, s.wasMember = epoch, code, time.Now(), true
	for e := range s.pending {
		if e <= epoch {
			delete(s.pending, e)
		}
	}
	s.mu.Unlock()
	s.cfg.OnEvent(EventKey{Epoch: epoch, Code: code, Members: members, SenderIndex: meetingtypes.SenderIndex(members, s.cfg.Device.UserID, s.cfg.Device.DeviceID)})
	if s.cfg.Control != nil {
		st := Status{Role: "member", Epoch: epoch, Code: code, Updated: time.Now().UTC()}
		for _, m := range members {
			st.Members = append(st.Members, m.UserId+"/"+m.DeviceId)
		}
		if len(members) > 0 {
			if m, err := s.cfg.Chain.Meeting().Meeting(context.Background(), &meetingtypes.QueryMeetingRequest{MeetingId: s.cfg.MeetingID}); err == nil &&
				m.Meeting.LeaderUser == s.cfg.Device.UserID && m.Meeting.LeaderDevice == s.cfg.Device.DeviceID {
				st.Role = "leader"
			}
		}
		if err := s.cfg.Control.WriteStatus(st); err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "status file", Err: err})
		}
	}
	return nil
}

// broadcast is a narrow helper so leader and member code share error text.
func (s *Session) broadcast(ctx context.Context, msg sdk.Msg) error {
	_, err := s.cfg.Chain.Broadcast(ctx, msg)
	return err
}
