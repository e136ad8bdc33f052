// Package participant joins the pieces a device needs to be in a call: the
// meeting session (keys from the leader, checked against the chain), the
// call engine (pion mesh, SFrame), and the nodes' mailbox as the signalling
// transport. It never handles a key the session did not verify.
package participant

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Config configures one participant.
type Config struct {
	Session       meeting.Config // Mailbox, Chain, Device, MeetingID, Eph, ...
	Video, Audio  call.Source
	Sinks         call.SinkFactory
	SettingEngine *webrtc.SettingEngine
	ICEServers    []webrtc.ICEServer
	// OnEpoch is told each epoch the engine switches to.
	OnEpoch func(call.Epoch)
}

// Participant is a running session and call engine.
type Participant struct {
	cfg     Config
	session *meeting.Session
	engine  *call.Engine
	signals chan call.Inbound
	mu      sync.Mutex
	epoch   uint64

	keyEvents chan meeting.EventKey
}

// New prepares a participant; Run runs it.
func New(cfg Config) (*Participant, error) {
	p := &Participant{cfg: cfg, signals: make(chan call.Inbound, 1024)}
	sc := cfg.Session
	userEvent := sc.OnEvent
	sc.OnSignal = func(d meeting.Delivery) {
		select {
		case p.signals <- call.Inbound{FromUser: d.FromUser, FromDevice: d.FromDevice, Body: d.Body}:
		default: // a flood cannot block the session; the peer resends
		}
	}
	keys := make(chan meeting.EventKey, 16)
	sc.OnEvent = func(e meeting.Event) {
		if k, ok := e.(meeting.EventKey); ok {
			select {
			case keys <- k:
			default:
			}
		}
		if userEvent != nil {
			userEvent(e)
		}
	}
	s, err := meeting.NewSession(sc)
	if err != nil {
		return nil, err
	}
	p.session = s
	e, err := call.NewEngine(call.Config{
		UserID: sc.Device.UserID, DeviceID: sc.Device.DeviceID, DeviceKey: signer{sc.Device.Key},
		EphemeralKey: s.EphemeralKey(), ChainID: sc.Chain.ChainID(), MeetingID: sc.MeetingID,
		Transport: transport{p: p}, SettingEngine: cfg.SettingEngine, ICEServers: cfg.ICEServers,
		Video: cfg.Video, Audio: cfg.Audio, Sinks: cfg.Sinks,
	})
	if err != nil {
		return nil, err
	}
	p.engine = e
	p.keyEvents = keys
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
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = p.engine.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		p.followEpochs(ctx)
	}()
	err := p.session.Run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, p.engine.Close())
}

// followEpochs gives the engine each verified epoch: the roster in order,
// each member's device key (to check its signals) and ephemeral key (to
// seal signals to it), and the meeting key.
func (p *Participant) followEpochs(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-p.keyEvents:
			ep, err := p.epochFor(ctx, k)
			if err != nil {
				if p.cfg.Session.OnEvent != nil {
					p.cfg.Session.OnEvent(meeting.EventProblem{Peer: "roster", Err: err})
				}
				continue
			}
			if err := p.engine.SetEpoch(ep); err == nil {
				p.mu.Lock()
				p.epoch = ep.Number
				p.mu.Unlock()
				if p.cfg.OnEpoch != nil {
					p.cfg.OnEpoch(ep)
				}
			}
			clear(ep.Key)
		}
	}
}

func (p *Participant) epochFor(ctx context.Context, k meeting.EventKey) (call.Epoch, error) {
	mk, err := p.session.Keys().Get(k.Epoch)
	if err != nil {
		return call.Epoch{}, err
	}
	c := p.cfg.Session.Chain
	reqs, err := c.Meeting().JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: p.cfg.Session.MeetingID})
	if err != nil {
		return call.Epoch{}, err
	}
	byID := map[string]meetingtypes.JoinRequest{}
	for _, r := range reqs.Requests {
		byID[r.UserId+"/"+r.DeviceId] = r
	}
	ep := call.Epoch{Number: k.Epoch, Key: bytes.Clone(mk)}
	for _, m := range k.Members {
		r, ok := byID[m.UserId+"/"+m.DeviceId]
		if !ok || !bytes.Equal(meetingtypes.EphKeyHash(r.EphPk), m.EphPkHash) {
			return call.Epoch{}, fmt.Errorf("member %s/%s: its ephemeral key on chain does not match the roster", m.UserId, m.DeviceId)
		}
		d, err := c.Identity().Device(ctx, &identitytypes.QueryDeviceRequest{UserId: m.UserId, DeviceId: m.DeviceId})
		if err != nil {
			return call.Epoch{}, fmt.Errorf("member %s/%s: %w", m.UserId, m.DeviceId, err)
		}
		ep.Members = append(ep.Members, call.Member{UserID: m.UserId, DeviceID: m.DeviceId, DevicePub: d.Device.Pubkey, EphPub: r.EphPk})
	}
	return ep, nil
}

// transport carries the engine's sealed signals through the mailbox.
type transport struct{ p *Participant }

func (t transport) Send(ctx context.Context, to call.Member, body []byte) error {
	return t.p.cfg.Session.Mailbox.Post(ctx, keyschedule.EphemeralKeyHash(to.EphPub), t.p.cfg.Session.MeetingID, meeting.KindSignal, body)
}

func (t transport) Receive() <-chan call.Inbound { return t.p.signals }

// signer adapts a device key to crypto.Signer for the engine.
type signer struct{ k meeting.Signer }

func (s signer) Public() crypto.PublicKey { return ed25519.PublicKey(s.k.PublicKey()) }

func (s signer) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(msg), nil
}
