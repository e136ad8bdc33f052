// Package participant joins the pieces a device needs to be in a call: the
// meeting session (keys from the leader, checked against the chain), the
// call engine (pion mesh, SFrame), and the nodes' mailbox as the signalling
// transport. It never handles a key the session did not verify.
package participant

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
)

// Config configures one participant.
type Config struct {
	Session       meeting.Config // Mailbox, Chain, Device, MeetingID, Eph, ...
	Video, Audio  call.Source
	Screen        call.Source // optional: a shared screen
	Sinks         call.SinkFactory
	SettingEngine *webrtc.SettingEngine
	ICEServers    []webrtc.ICEServer
	Reach         call.Reach // relays, extra STUN/TURN servers, relay-only
	// MediaRelay, optional, carries calls of more than call's MeshLimit
	// members through a node's media relay (client/mailbox's
	// Client.MediaRelay); with it the meeting takes up to
	// call.MaxRelayMembers. LastN is how many videos to take from it.
	MediaRelay call.MediaRelayDialer
	LastN      int
	// SealedSimulcast: the camera comes sealed in three layers
	// (call.Config.SealedSimulcast; the page of parley ui).
	SealedSimulcast bool
	// OnEpoch is told each verified epoch after the engine switched to it,
	// on the session's goroutine; ep.Key is valid only during the call.
	OnEpoch func(meeting.Epoch)
	// OnSendEpoch, optional, is told when this device's frames move to a
	// new epoch's key (call.Config.OnSendEpoch); it must not block.
	OnSendEpoch func(epoch uint64)
	// OnMessage, optional, receives the members' in-call messages
	// (call.Config.OnMessage, client/callmsg); it must not block.
	OnMessage func(call.Message)
}

// Participant is a running session and call engine.
type Participant struct {
	cfg     Config
	session *meeting.Session
	engine  *call.Engine
	signals chan call.Inbound
}

// New prepares a participant; Run runs it.
func New(cfg Config) (*Participant, error) {
	p := &Participant{cfg: cfg, signals: make(chan call.Inbound, 1024)}
	sc := cfg.Session
	sc.OnSignal = func(d meeting.Delivery) {
		select {
		case p.signals <- call.Inbound{FromUser: d.FromUser, FromDevice: d.FromDevice, Body: d.Body}:
		default: // a flood cannot block the session; the peer resends
		}
	}
	sc.OnEpoch = p.onEpoch
	sc.OnOwnKeys = func(keys []hpke.PrivateKey) {
		if err := p.engine.SetOwnKeys(keys...); err != nil && sc.OnEvent != nil {
			sc.OnEvent(meeting.EventProblem{Peer: "call", Err: err})
		}
	}
	carried := call.MaxMembers // what the mesh carries
	if cfg.MediaRelay != nil {
		carried = call.MaxRelayMembers
	}
	if sc.MaxMembers == 0 || sc.MaxMembers > carried {
		sc.MaxMembers = carried
	}
	s, err := meeting.NewSession(sc)
	if err != nil {
		return nil, err
	}
	p.session = s
	e, err := call.NewEngine(call.Config{
		UserID: sc.Device.UserID, DeviceID: sc.Device.DeviceID, DeviceKey: sc.Device.Key,
		EphemeralKey: s.EphemeralKey(), ChainID: sc.Chain.ChainID(), MeetingID: sc.MeetingID,
		Transport: transport{p: p}, SettingEngine: cfg.SettingEngine, ICEServers: cfg.ICEServers,
		Reach: cfg.Reach,
		Video: cfg.Video, Audio: cfg.Audio, Screen: cfg.Screen, Sinks: cfg.Sinks, OnSendEpoch: cfg.OnSendEpoch,
		OnMessage: cfg.OnMessage, MediaRelay: cfg.MediaRelay, LastN: cfg.LastN, SealedSimulcast: cfg.SealedSimulcast,
	})
	if err != nil {
		return nil, err
	}
	p.engine = e
	return p, nil
}

// Session returns the meeting session.
func (p *Participant) Session() *meeting.Session { return p.session }

// Engine returns the call engine.
func (p *Participant) Engine() *call.Engine { return p.engine }

// Run runs the session and the call until ctx ends, the meeting ends or
// this device is removed; it returns the session's reason.
func (p *Participant) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		// The call stopping on its own while the session goes on is told,
		// never dropped: the person would sit in a silent meeting.
		if err := p.engine.Run(ctx); err != nil && ctx.Err() == nil && p.cfg.Session.OnEvent != nil {
			p.cfg.Session.OnEvent(meeting.EventProblem{Peer: "call", Err: fmt.Errorf("the call stopped: %w", err)})
		}
	})
	err := p.session.Run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, p.engine.Close())
}

// onEpoch gives the engine the session's verified epoch as it is: the
// roster in order with each member's proven device and ephemeral keys,
// and the meeting key. An epoch the engine refuses is reported, never
// dropped in silence.
func (p *Participant) onEpoch(ep meeting.Epoch) {
	ce := CallEpoch(ep)
	if err := p.engine.SetEpoch(ce); err != nil {
		if p.cfg.Session.OnEvent != nil {
			p.cfg.Session.OnEvent(meeting.EventProblem{Peer: "call", Err: fmt.Errorf("the call cannot take epoch %d: %w", ep.Number, err)})
		}
		return
	}
	if p.cfg.OnEpoch != nil {
		p.cfg.OnEpoch(ep)
	}
}

// CallEpoch is the call engine's view of a verified epoch.
func CallEpoch(ep meeting.Epoch) call.Epoch {
	ce := call.Epoch{Number: ep.Number, Key: ep.Key, Members: make([]call.Member, len(ep.Members))}
	for i, m := range ep.Members {
		ce.Members[i] = call.Member{UserID: m.User, DeviceID: m.Device, DevicePub: m.DevicePub, EphPub: m.EphPub}
	}
	return ce
}

// transport carries the engine's sealed signals through the mailbox.
type transport struct{ p *Participant }

func (t transport) Send(ctx context.Context, to call.Member, body []byte) error {
	return t.p.cfg.Session.Mailbox.Post(ctx, keyschedule.EphemeralKeyHash(to.EphPub), t.p.cfg.Session.MeetingID, mailboxv1.KindSignal, body)
}

func (t transport) Receive() <-chan call.Inbound { return t.p.signals }
