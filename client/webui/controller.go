package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/client/verify"
)

// controller is the client side of the page: it holds the signed-in
// device, runs the meeting (session and call engine) and the page's own
// media connection, and tells the page what happens. The page decides
// nothing the chain or the key schedule decides; it asks.
type controller struct {
	cfg Config

	mu       sync.Mutex
	page     *pageConn
	phase    phase // changed only by moveLocked (phase.go)
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

	// pay is the chain client that pays with the signed-in device's own
	// account (Config.PayWith); nil: Config.Chain pays (account.go).
	pay   *verify.Client
	setup setupState // firstrun.go
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
	c.releaseDeviceLocked()
	c.setup.stop()
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
	if c.handleSetup(m.Type, raw) { // firstrun.go, linkapprove.go
		return
	}
	switch m.Type {
	case "hello":
		c.sendState()
	case "offer":
		go c.connectPage(m)
	case "signin":
		c.exclusive("signin", func(ctx context.Context) error { return c.signIn(m.User, m.Device, []byte(m.Passphrase)) })
	case "create":
		c.exclusive("create", func(ctx context.Context) error { return c.create(ctx, m) })
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
			c.notice("error", "", "Only the host of a running meeting can remove people.")
			return
		}
		c.mu.Lock()
		delete(c.approved, meeting.DeviceRef{User: m.User, Device: m.Device}) // a removal withdraws the approval
		c.mu.Unlock()
		p.Session().Remove(m.User, m.Device)
		c.notice("info", "", fmt.Sprintf("Removing %s/%s: the call gets a new key without them.", m.User, m.Device))
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
