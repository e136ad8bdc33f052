package webui

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// controller is the client side of the page: it holds the signed-in
// device, runs the meeting (session and call engine) and the page's own
// media connection, and tells the page what happens. The page decides
// nothing the chain or the key schedule decides; it asks.
type controller struct {
	cfg Config

	mu       sync.Mutex
	page     *pageConn
	phase    string
	reason   string
	dev      *meeting.Device
	devDone  func()
	mbox     Mailbox
	id       []byte // current meeting
	leader   bool
	part     *participant.Participant
	stop     context.CancelFunc
	runDone  chan struct{}
	approved map[meeting.DeviceRef]bool // leader, manual admission: devices approved in the page
	admitAll bool
	lastEp   *epochMsg
	ctrNext  uint64 // first SFrame counter not yet given to a page in lastEp's epoch
	busy     bool
	node     string // the chain node last used

	slots  *slotTable
	bridge *bridge
	closed chan struct{}

	// relayOnly: the page asked for relay-only calls (bridge.go)
	relayOnly atomic.Bool

	talk talkState // talk.go

	invite leaderInvite // invitelink.go
}

func newController(cfg Config) *controller {
	return &controller{cfg: cfg, phase: phaseSignIn, slots: newSlotTable(), closed: make(chan struct{})}
}

func (c *controller) logf(format string, args ...any) {
	fmt.Fprintf(c.cfg.Log, time.Now().Format("15:04:05.000")+"  "+format+"\n", args...)
}

// run watches the chain and the meeting every second until close.
func (c *controller) run() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
			c.watch()
		}
	}
}

func (c *controller) close() {
	c.mu.Lock()
	stop, done, b := c.stop, c.runDone, c.bridge
	c.bridge = nil
	if c.page != nil {
		c.page.close()
	}
	c.mu.Unlock()
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	if b != nil {
		b.close()
	}
	if stop != nil {
		stop()
		<-done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mbox != nil {
		_ = c.mbox.Close()
	}
	if c.devDone != nil {
		c.devDone()
	}
}

// attach makes p, which proved the page secret, the page's connection as
// mode asks: modeResume only when no live page is attached, modeTake
// replacing the live page (closed with closeReplaced), modeAsk never.
// When p is not attached, attach returns the live page's done channel
// (nil when there is none) and p stays the caller's.
func (c *controller) attach(p *pageConn, mode attachMode) (attached bool, live <-chan struct{}) {
	c.mu.Lock()
	old := c.page
	if old != nil && old.isClosed() {
		old = nil
	}
	if mode == modeAsk || (mode != modeTake && old != nil) {
		c.mu.Unlock()
		if old == nil {
			return false, nil
		}
		return false, old.done
	}
	c.page = p
	c.mu.Unlock()
	if old != nil {
		old.closeWith(closeReplaced, "Parley was opened in another tab.")
	}
	c.sendState()
	c.mu.Lock()
	if c.lastEp != nil {
		p.send(c.pageEpochLocked())
	}
	c.mu.Unlock()
	go func() {
		p.readLoop(c.handle)
		c.mu.Lock()
		if c.page == p {
			c.page = nil
		}
		c.mu.Unlock()
	}()
	return true, nil
}

// send gives the page a message, if a page is attached.
func (c *controller) send(v any) {
	c.mu.Lock()
	p := c.page
	c.mu.Unlock()
	if p != nil {
		p.send(v)
	}
}

func (c *controller) notice(level, key, text string) {
	c.send(noticeMsg{Type: "notice", Level: level, Key: key, Text: text})
}

func (c *controller) sendState() {
	c.mu.Lock()
	st := stateMsg{Type: "state", Phase: c.phase, ChainID: c.cfg.Chain.ChainID(), Leader: c.leader, Reason: c.reason}
	if c.dev != nil {
		st.Self = &memberInfo{User: c.dev.UserID, Device: c.dev.DeviceID, Slot: -1, Self: true}
	}
	if c.id != nil {
		st.Meeting = hex.EncodeToString(c.id)
		inv := meeting.Invite{ChainID: c.cfg.Chain.ChainID(), MeetingID: c.id}
		if a := c.cfg.Chain.Anchor(); a.Height > 0 {
			inv.Trust = a.String()
		}
		st.Invite = inv.Link()
		if c.leader {
			// The leader's own signed link (and .ics), once made.
			if link, ics := c.signedInvite(c.id, c.dev); link != "" {
				st.Invite, st.InviteICS = link, ics
			}
		}
	}
	phase := c.phase
	c.mu.Unlock()
	var warn, fail string
	if phase == phaseSignIn {
		list, err := c.cfg.Keys.List()
		if err != nil {
			fail = "Cannot read the device keys: " + err.Error()
		}
		for _, k := range list {
			st.Devices = append(st.Devices, deviceInfo{User: k.User, Device: k.Device, Encrypted: k.Encrypted})
		}
		if err == nil && len(list) == 0 {
			warn = "This client holds no device key yet: create one with `parley device init` and register it with `parley identity register`."
		}
	}
	c.send(st)
	if fail != "" {
		c.notice("error", "keys", fail)
	}
	if warn != "" {
		c.notice("warn", "keys", warn)
	}
}

// handle runs one message from the page. Work that talks to the chain runs
// in its own goroutine; one such operation at a time.
func (c *controller) handle(raw []byte) {
	var m inbound
	if err := json.Unmarshal(raw, &m); err != nil {
		c.notice("error", "", "The page sent a message the client cannot read: "+err.Error())
		return
	}
	c.noteRelayOnly(raw)
	switch m.Type {
	case "hello":
		c.sendState()
	case "offer":
		go c.connectPage(m)
	case "signin":
		c.exclusive("signin", func(ctx context.Context) error { return c.signIn(m.User, m.Device, []byte(m.Passphrase)) })
	case "create":
		c.exclusive("create", func(ctx context.Context) error { return c.create(ctx, m.AdmitAll, m.Passcode) })
	case "join":
		c.exclusive("join", func(ctx context.Context) error { return c.join(ctx, m.Invite, m.Passcode) })
	case "admit":
		c.mu.Lock()
		if c.approved != nil {
			c.approved[meeting.DeviceRef{User: m.User, Device: m.Device}] = true
		}
		p := c.part
		c.mu.Unlock()
		if p != nil && p.Session().RemovedEarlier(m.User, m.Device) {
			// Letting a removed device back in is this explicit click.
			p.Session().Readmit(m.User, m.Device)
		}
		c.notice("info", "", fmt.Sprintf("Admitting %s/%s at the next block.", m.User, m.Device))
	case "remove":
		c.mu.Lock()
		p, leader := c.part, c.leader
		c.mu.Unlock()
		if p == nil || !leader {
			c.notice("error", "", "Only the leader of a running meeting can remove members.")
			return
		}
		c.mu.Lock()
		delete(c.approved, meeting.DeviceRef{User: m.User, Device: m.Device}) // a removal withdraws the approval
		c.mu.Unlock()
		p.Session().Remove(m.User, m.Device)
		c.notice("info", "", fmt.Sprintf("Removing %s/%s: the leader commits a new epoch without them.", m.User, m.Device))
	case "transfer":
		to := meeting.DeviceRef{User: m.User, Device: m.Device}
		c.exclusive("transfer", func(ctx context.Context) error { return c.transfer(ctx, to) })
	case "lobby":
		// Back from the over phase: not an operation, so it is not refused
		// while the leave that ended the call still waits for its block.
		c.backToLobby()
		c.sendState()
	case "leave":
		c.exclusive("leave", c.leave)
	case "end":
		c.exclusive("end", c.end)
	case "signout":
		c.exclusive("signout", func(context.Context) error { c.signOut(); return nil })
	case "chat", "hand", "react", "name", "record", "askmute":
		if err := c.sayFromPage(m); err != nil {
			c.notice("warn", "", "Not sent: "+err.Error())
		}
	default:
		c.notice("error", "", fmt.Sprintf("The page sent an unknown request %q.", m.Type))
	}
}

// exclusive runs op in the background unless another operation runs; its
// error goes to the page, naming what failed.
func (c *controller) exclusive(what string, op func(context.Context) error) {
	c.mu.Lock()
	if c.busy {
		c.mu.Unlock()
		c.notice("warn", "", "Still working on the previous request; try again in a moment.")
		return
	}
	c.busy = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := op(ctx)
		c.mu.Lock()
		c.busy = false
		c.mu.Unlock()
		if err != nil {
			c.logf("%s: %v", what, err)
			c.notice("error", what, err.Error())
		} else {
			c.notice("info", what, "")
		}
		c.sendState()
	}()
}

func (c *controller) signIn(user, device string, pass []byte) error {
	c.mu.Lock()
	if c.phase != phaseSignIn {
		c.mu.Unlock()
		return errors.New("already signed in")
	}
	c.mu.Unlock()
	d, done, err := c.cfg.Keys.Unlock(user, device, pass)
	clear(pass)
	if err != nil {
		return fmt.Errorf("device key %s/%s: %w", user, device, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := c.cfg.Chain.Reader().Latest(ctx)
	if err != nil {
		done()
		return fmt.Errorf("cannot read the chain: %w", err)
	}
	dev, err := snap.Device(ctx, user, device)
	switch {
	case errors.Is(err, verify.ErrNotFound):
		done()
		return fmt.Errorf("device %s/%s is not on chain %s (register it with `parley identity register`)", user, device, c.cfg.Chain.ChainID())
	case err != nil:
		done()
		return fmt.Errorf("cannot check device %s/%s on chain %s: %w", user, device, c.cfg.Chain.ChainID(), err)
	case dev.RevokedHeight != 0:
		done()
		return fmt.Errorf("device %s/%s was revoked at height %d", user, device, dev.RevokedHeight)
	case !bytes.Equal(dev.Pubkey, d.Key.PublicKey()):
		done()
		return fmt.Errorf("device %s/%s: the chain holds a different key than this keystore", user, device)
	}
	mb, err := c.cfg.NewMailbox(d)
	if err != nil {
		done()
		return fmt.Errorf("mailbox: %w", err)
	}
	c.mu.Lock()
	c.dev, c.devDone, c.mbox, c.phase, c.reason = &d, done, mb, phaseLobby, ""
	c.mu.Unlock()
	c.logf("signed in as %s/%s", user, device)
	return nil
}

func (c *controller) signOut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.part != nil {
		return
	}
	if c.mbox != nil {
		_ = c.mbox.Close()
	}
	if c.devDone != nil {
		c.devDone()
	}
	c.dev, c.devDone, c.mbox, c.phase, c.id, c.reason = nil, nil, nil, phaseSignIn, nil, ""
}

// inLobby returns the signed-in device, or an error naming why the page
// cannot start a meeting now.
func (c *controller) inLobby() (meeting.Device, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.dev == nil:
		return meeting.Device{}, errors.New("sign in first")
	case c.part != nil:
		return meeting.Device{}, errors.New("already in a meeting; leave it first")
	}
	return *c.dev, nil
}

func (c *controller) create(ctx context.Context, admitAll bool, passcode string) error {
	d, err := c.inLobby()
	if err != nil {
		return err
	}
	id, _, err := meeting.Create(ctx, c.cfg.Chain, c.cfg.Eph, d, meeting.CreateOptions{PasscodeRequired: passcode != ""})
	if err != nil {
		return fmt.Errorf("create a meeting: %w", err)
	}
	c.logf("created meeting %x", id)
	return c.start(d, id, true, admitAll, passcode)
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
	if _, err := meeting.Join(ctx, c.cfg.Chain, c.cfg.Eph, d, id, passcode); err != nil {
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
			Chain: c.cfg.Chain, Mailbox: mb, Device: d, MeetingID: id, Eph: c.cfg.Eph, Control: &ctl, Contacts: c.cfg.Contacts,
			Admit:    c.admit,
			Passcode: passcode,
			OnEvent:  c.onEvent,
		},
		Sinks:         c.slots.sinks(c),
		SettingEngine: c.cfg.MeshSettings,
		Reach:         c.reach(mb, id, c.relayOnly.Load()),
		OnEpoch:       c.onEpoch,
		OnSendEpoch:   c.onSendEpoch,
		OnMessage:     c.onMessage,
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
	c.phase, c.reason = phaseWaiting, ""
	if leader {
		c.phase = phaseCall
	}
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
		reason = "You were removed from the meeting: the leader started a new epoch without this device, so its keys no longer decrypt the call."
	case errors.Is(err, meeting.ErrWrongPasscode):
		reason = "The leader did not let you in: the passcode is wrong. Ask to join again with the right one."
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
	c.part, c.stop, c.phase, c.reason, c.lastEp = nil, nil, phaseOver, reason, nil
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
		return errors.New("the leader cannot leave: end the meeting for everyone instead")
	}
	c.stopMeeting()
	if _, err := meeting.Leave(ctx, c.cfg.Chain, c.cfg.Eph, *d, id); err != nil {
		return fmt.Errorf("left the call, but the chain did not record the leave: %w", err)
	}
	return nil
}

func (c *controller) end(ctx context.Context) error {
	c.mu.Lock()
	p, id, leader, d := c.part, c.id, c.leader, c.dev
	c.mu.Unlock()
	if p == nil || !leader {
		return errors.New("only the leader of a running meeting can end it")
	}
	if _, err := meeting.End(ctx, c.cfg.Chain, c.cfg.Eph, *d, id); err != nil {
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
	if _, err := meeting.Transfer(ctx, c.cfg.Chain, *d, id, to); err != nil {
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
		c.phase, c.id, c.reason, c.leader = phaseLobby, nil, "", false
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
			c.notice("warn", "", "The leader stopped answering; this device claimed leadership.")
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
		c.notice("warn", "admission", "The leader has not let you in: "+e.String()+".")
	case meeting.EventKeyChange:
		c.notice("warn", "", e.Change.String())
	case meeting.EventFull, meeting.EventRemovedAsks:
		c.notice("warn", "", e.String())
	}
}

// onEpoch gives the page the epoch's keys: for each member the SFrame key
// and salt of its KID, never the meeting key, and what the session proved
// of each member. It runs on the session's goroutine, before the key is
// cleared.
func (c *controller) onEpoch(ep meeting.Epoch) {
	c.mu.Lock()
	self, p := c.dev, c.part
	c.mu.Unlock()
	if self == nil || p == nil {
		return
	}
	refs := make([]call.Member, len(ep.Members))
	for i, m := range ep.Members {
		refs[i] = call.Member{UserID: m.User, DeviceID: m.Device}
	}
	slots := c.slots.assign(refs, self.UserID, self.DeviceID)
	// The page holds its send key until the engine moves (onSendEpoch),
	// unless the engine has already.
	hold := p.Engine().SendEpoch() < ep.Number
	msg := &epochMsg{Type: "epoch", Epoch: ep.Number, Code: ep.Code, Suite: uint16(sframe.DefaultSuite), GraceMS: call.DefaultGrace.Milliseconds(), Hold: hold}
	for i, m := range ep.Members {
		kid, key, salt, err := sframe.SenderKeyMaterial(sframe.DefaultSuite, ep.Key, uint32(i), ep.Number) //nolint:gosec // i < call.MaxMembers
		if err != nil {
			c.notice("error", "", "Cannot derive the keys of epoch "+fmt.Sprint(ep.Number)+": "+err.Error())
			return
		}
		mi := memberInfo{User: m.User, Device: m.Device, KID: kid, Key: key, Salt: salt, Slot: slots[m.String()]}
		if i == ep.Self {
			mi.Self, mi.Slot = true, -1
			msg.SelfKID = kid
		}
		// Every member of a verified epoch is proven: its device key is
		// the one the chain binds to it. A device that came with an
		// account reset is marked, since no earlier device signed it.
		mi.Verified = c.cfg.Chain.Reader().Verified()
		switch {
		case !mi.Verified:
			mi.Problem = "not verified: this client trusts its node (--insecure-trust-node)"
		case m.Reset && m.NewSinceMet:
			mi.Problem = "a new device since you last met " + m.User + ", added by an account reset: no earlier device of theirs approved it; confirm with them"
		case m.Reset:
			mi.Problem = "added by an account reset: no earlier device of " + m.User + " approved it"
		case m.NewSinceMet:
			mi.Problem = "a new device since you last met " + m.User + ": confirm with them that it is theirs"
		}
		msg.Members = append(msg.Members, mi)
	}
	c.mu.Lock()
	c.lastEp, c.ctrNext = msg, 0
	if c.phase == phaseWaiting {
		c.phase = phaseCall
	}
	page := c.pageEpochLocked()
	c.mu.Unlock()
	c.sendState()
	c.send(page)
	c.retell(p.Engine())
}

// onSendEpoch tells the page to seal its frames under epoch's key now:
// every member holds it, or the key transition ran out.
func (c *controller) onSendEpoch(epoch uint64) {
	c.send(&sendEpochMsg{Type: "send", Epoch: epoch})
}

// pageCounterSpan is the block of SFrame counters each page instance gets
// in an epoch: 2^32 frames, over two years of audio and video.
const pageCounterSpan = 1 << 32

// pageEpochLocked returns the current epoch for a page, with a block of
// counters no page has used under this epoch's key: a page that reloads
// (or a second tab) starts a new Worker, and without this it would start
// again at counter 0, reusing AES-GCM nonces. c.mu must be held.
func (c *controller) pageEpochLocked() *epochMsg {
	m := *c.lastEp
	m.CtrBase = c.ctrNext
	c.ctrNext += pageCounterSpan
	return &m
}

// watch reports the chain's view of the meeting and the node's health.
func (c *controller) watch() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.cfg.Chain.Status(ctx)
	if err != nil {
		c.notice("error", "chain", "No chain node answers: "+err.Error()+". The call goes on with its current keys; joins, removals and rekeys wait for the chain.")
		return
	}
	h := st.Height
	c.mu.Lock()
	epoch := uint64(0)
	if c.lastEp != nil {
		epoch = c.lastEp.Epoch
	}
	c.node = st.Node
	c.mu.Unlock()
	switch {
	case st.Halted:
		c.notice("error", "chain", fmt.Sprintf("The chain is halted: no new block since %s (height %d); too many validators may be down. "+
			"The call goes on in epoch %d; joins, removals and rekeys wait until blocks resume.", st.BlockTime.Format("15:04:05"), h, epoch))
	case st.CatchingUp:
		c.notice("warn", "chain", "The chain node "+st.Node+" is still catching up with the chain.")
	default:
		c.notice("info", "chain", "")
	}
	c.mu.Lock()
	id, p, b := c.id, c.part, c.bridge
	c.mu.Unlock()
	if p == nil {
		return
	}
	msg := meetingMsg{Type: "meeting", Height: h, Pending: []deviceInfo{}}
	if m, err := c.cfg.Chain.Meeting().Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id}); err == nil {
		msg.Leader = meeting.DeviceRef{User: m.Meeting.LeaderUser, Device: m.Meeting.LeaderDevice}.String()
	}
	if reqs, err := c.cfg.Chain.Meeting().JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: id}); err == nil {
		for _, r := range reqs.Requests {
			if r.Status == meetingtypes.RequestStatus_REQUEST_STATUS_PENDING {
				msg.Pending = append(msg.Pending, deviceInfo{User: r.UserId, Device: r.DeviceId, RemovedEarlier: p.Session().RemovedEarlier(r.UserId, r.DeviceId)})
			}
		}
	}
	for _, s := range p.Engine().Stats() {
		msg.Peers = append(msg.Peers, peerInfo{Member: meeting.DeviceRef{User: s.UserID, Device: s.DeviceID}.String(), State: s.State, Epoch: s.RecvEpoch, Decrypted: s.FramesDecrypted, Rejected: s.Rejected.Total()})
	}
	if b != nil {
		msg.Rejects = b.rejects.Load()
	}
	c.send(msg)
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
