package webui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// maxMinutes bounds the length a page may ask for (the chain has its own
// bound, a module parameter, and says so).
const maxMinutes = 24 * 60

func (c *controller) create(ctx context.Context, m inbound) error {
	d, err := c.inLobby()
	if err != nil {
		return err
	}
	opts := meeting.CreateOptions{PasscodeRequired: m.Passcode != ""}
	if m.Minutes < 0 || m.Minutes > maxMinutes {
		return fmt.Errorf("a meeting lasts 1 to %d minutes, not %d", maxMinutes, m.Minutes)
	}
	opts.Duration = time.Duration(m.Minutes) * time.Minute
	if m.StartsAt != 0 {
		opts.StartsAt = time.Unix(m.StartsAt, 0)
		if !opts.StartsAt.After(time.Now()) {
			return fmt.Errorf("the start, %s, has passed: choose a later one, or none to start now", opts.StartsAt.Format("2006-01-02 15:04"))
		}
	}
	id, _, err := meeting.Create(ctx, c.txChain(), c.cfg.Eph, d, opts)
	if err != nil {
		return fmt.Errorf("create a meeting: %w", err)
	}
	c.logf("created meeting %x", id)
	return c.start(d, id, true, m.AdmitAll, m.Passcode)
}

func (c *controller) join(ctx context.Context, invite, passcode string) error {
	d, err := c.inLobby()
	if err != nil {
		return err
	}
	inv, err := parseInvite(invite, c.cfg.Chain.ChainID())
	if err != nil {
		return err
	}
	if inv.Signed != nil {
		// The leader's signed invite: its signature, leader, schedule and
		// anchor are checked against the chain before anything in it is used.
		if _, err := meeting.VerifyInvite(ctx, c.cfg.Chain, inv); err != nil {
			return err
		}
	} else if inv.Trust != "" {
		// The inviter's client trusts this header: it must be on the chain
		// this one verifies, or one of the two is shown another chain.
		if err := c.cfg.Chain.CheckAnchor(ctx, inv.Trust); err != nil {
			return fmt.Errorf("the invite's trust anchor: %w", err)
		}
	}
	id := inv.MeetingID
	if _, err := meeting.Join(ctx, c.txChain(), c.cfg.Eph, d, id, passcode); err != nil {
		return fmt.Errorf("ask to join %x: %w", id, err)
	}
	c.logf("asked to join %x", id)
	return c.start(d, id, false, false, "")
}

// start runs the session and the call of meeting id.
func (c *controller) start(d meeting.Device, id []byte, leader, admitAll bool, passcode string) error {
	c.mu.Lock()
	mb := c.mbox
	c.approved = map[meeting.DeviceRef]bool{}
	c.admitAll = admitAll
	c.mu.Unlock()
	// Removals are kept beside the meeting's keys, for the meeting's life:
	// a removed device asking again is never admitted by the page's policy.
	ctl := meeting.ControlOf(c.cfg.Eph, id)
	cfg := participant.Config{
		Session: meeting.Config{
			Chain: c.txChain(), Mailbox: mb, Device: d, MeetingID: id, Eph: c.cfg.Eph, Control: &ctl, Contacts: c.cfg.Contacts,
			Admit:    c.admit,
			Passcode: passcode,
			OnEvent:  c.onEvent,
		},
		Sinks:      c.slots.sinks(c),
		MediaRelay: mediaRelay(mb, id),
		// LastN videos, the three loudest voices and a shared screen
		// fit the page's receive slots.
		LastN:           pageLastN,
		SealedSimulcast: true,
		SettingEngine:   c.cfg.MeshSettings,
		Reach:           c.reach(mb, id, c.relayOnly.Load()),
		OnEpoch:         c.onEpoch,
		OnSendEpoch:     c.onSendEpoch,
		OnMessage:       c.onMessage,
	}
	p, err := participant.New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.part, c.stop, c.runDone, c.id, c.leader, c.lastEp = p, cancel, done, id, leader, nil
	c.talk = talkState{name: c.talk.name}
	next := phaseWaiting
	if leader {
		next = phaseCall
	}
	c.mustMoveLocked(next, "")
	c.mu.Unlock()
	go func() {
		defer close(done)
		err := p.Run(ctx)
		c.finished(p, err)
	}()
	return nil
}

// admit is the leader's admission rule: everyone, or whom the page admitted.
func (c *controller) admit(r meetingtypes.JoinRequest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.admitAll || c.approved[r.Ref()]
}

// finished records why the meeting's participant stopped.
func (c *controller) finished(p *participant.Participant, err error) {
	reason := "You left the meeting."
	switch {
	case errors.Is(err, meeting.ErrRemoved):
		reason = "You were removed from the meeting: the host changed the call's key without this device, so it can no longer decrypt the call."
	case errors.Is(err, meeting.ErrWrongPasscode):
		reason = "The host's client did not let you in: the passcode is wrong. Ask to join again with the right one."
		if werr := c.withdraw(); werr != nil {
			reason += " (Asking again may fail for now: the refused request could not be withdrawn: " + werr.Error() + ")"
		}
	case errors.Is(err, meeting.ErrEnded):
		reason = "The meeting has ended."
	case err != nil && !errors.Is(err, context.Canceled):
		reason = "The meeting stopped: " + err.Error()
	}
	c.mu.Lock()
	if c.part != p {
		c.mu.Unlock()
		return
	}
	c.part, c.stop, c.lastEp = nil, nil, nil
	c.mustMoveLocked(phaseOver, reason)
	b := c.bridge
	c.bridge = nil
	c.mu.Unlock()
	c.slots.reset()
	if b != nil {
		b.close()
	}
	c.logf("meeting over: %s", reason)
	c.sendState()
}

// withdraw takes back this device's refused request of the current
// meeting on chain (a leave of a pending request), so that the person can
// ask again: the chain holds one open request per device.
func (c *controller) withdraw() error {
	c.mu.Lock()
	id, d := c.id, c.dev
	c.mu.Unlock()
	if id == nil || d == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := meeting.Withdraw(ctx, c.txChain(), *d, id); err != nil {
		return err
	}
	c.logf("withdrew the refused request to join %x", id)
	return nil
}

// stopMeeting stops the running participant and waits for it.
func (c *controller) stopMeeting() {
	c.mu.Lock()
	stop, done := c.stop, c.runDone
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

func (c *controller) leave(ctx context.Context) error {
	c.mu.Lock()
	p, id, leader, d := c.part, c.id, c.leader, c.dev
	c.mu.Unlock()
	if p == nil {
		c.backToLobby()
		return nil
	}
	if leader {
		return errors.New("the host cannot leave: make someone else the host first, or end the meeting for everyone")
	}
	c.stopMeeting()
	if _, err := meeting.Leave(ctx, c.txChain(), c.cfg.Eph, *d, id); err != nil {
		return fmt.Errorf("left the call, but the chain did not record the leave: %w", err)
	}
	return nil
}

func (c *controller) end(ctx context.Context) error {
	c.mu.Lock()
	p, id, leader, d := c.part, c.id, c.leader, c.dev
	c.mu.Unlock()
	if p == nil || !leader {
		return errors.New("only the host of a running meeting can end it")
	}
	if _, err := meeting.End(ctx, c.txChain(), c.cfg.Eph, *d, id); err != nil {
		return fmt.Errorf("end the meeting: %w", err)
	}
	// The session sees the end at the next block and stops.
	return nil
}

// transfer hands the leadership to a member; the session tells the
// change (EventLeaderLeft) at its next block.
func (c *controller) transfer(ctx context.Context, to meeting.DeviceRef) error {
	c.mu.Lock()
	p, id, leader, d := c.part, c.id, c.leader, c.dev
	c.mu.Unlock()
	if p == nil || !leader {
		return errors.New("only the host of a running meeting can hand it over")
	}
	if _, err := meeting.Transfer(ctx, c.txChain(), *d, id, to); err != nil {
		return fmt.Errorf("make %s the host: %w", to, err)
	}
	c.notice("info", "", fmt.Sprintf("%s is the host now.", to))
	return nil
}

// backToLobby returns from the over phase.
func (c *controller) backToLobby() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.part == nil && c.dev != nil {
		c.mustMoveLocked(phaseLobby, "")
		c.id, c.leader = nil, false
	}
}

// onEvent turns session events into page state and notices.
func (c *controller) onEvent(e meeting.Event) {
	c.logf("%s", e)
	switch e := e.(type) {
	case meeting.EventLeader:
		c.mu.Lock()
		c.leader = true
		c.mu.Unlock()
		c.sendState()
		if e.Claimed {
			c.notice("warn", "", "The host stopped answering; this device took over as host.")
		} else {
			c.notice("info", "", "You are the host now: you admit and remove people.")
		}
	case meeting.EventLeaderLeft:
		c.mu.Lock()
		c.leader = false
		c.mu.Unlock()
		c.sendState()
	case meeting.EventProblem:
		c.notice("warn", "", e.String())
	case meeting.EventLobby:
		c.notice("info", "lobby", "The meeting has not started: "+e.String()+".")
	case meeting.EventRefused:
		c.notice("warn", "admission", "The host has not let you in: "+e.String()+".")
	case meeting.EventKeyChange:
		c.notice("warn", "", e.Change.String())
	case meeting.EventFull, meeting.EventRemovedAsks:
		c.notice("warn", "", e.String())
	}
}

// engine returns the running call engine, or nil.
func (c *controller) engine() *call.Engine {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.part == nil {
		return nil
	}
	return c.part.Engine()
}
