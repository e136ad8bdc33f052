package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// Setup is what the page's first run needs of the client's keystore
// (cmd/parley implements it).
type Setup interface {
	// NewKey creates the device key user/device, encrypted under pass in
	// the format of `parley device init`, and returns it unlocked; done
	// wipes it.
	NewKey(user, device string, pass []byte) (d meeting.Device, done func(), err error)
	// DeleteKey removes a key NewKey made when its registration or link
	// failed, so that the page offers the first run again.
	DeleteKey(user, device string) error
	// Remember adds a device of this person to the devices the audit
	// knows (how: created, approved, approver).
	Remember(user, device string, pub []byte, how string) error
}

// minPassphrase is the shortest passphrase the first run accepts: the
// key file is as strong as it (Argon2id slows guessing, it does not stop
// it).
const minPassphrase = 8

// linkWait bounds the wait for another device's approval.
const linkWait = 20 * time.Minute

// errUserTaken: the first run's user ID is registered already.
var errUserTaken = errors.New("user ID taken")

// setupIn is the page's first-run request ("setup"): claim a new user ID
// (mode "register") or link to an existing one (mode "link").
type setupIn struct {
	Mode        string `json:"mode"`
	User        string `json:"user"`
	Device      string `json:"device"`
	Passphrase  string `json:"passphrase"`
	Passphrase2 string `json:"passphrase2"`
}

// setupMsg tells the page about the first run: whether it is offered,
// its steps, the link request to show, and how it failed.
type setupMsg struct {
	Type      string      `json:"type"` // "setup"
	Available bool        `json:"available"`
	Running   bool        `json:"running"`
	Mode      string      `json:"mode,omitempty"`
	Steps     []setupStep `json:"steps,omitempty"`
	Link      *linkInfo   `json:"link,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// setupStep is one step of the first run; State is todo, doing, done or
// failed, Detail what it is doing now.
type setupStep struct {
	Label  string `json:"label"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// linkInfo is a link request shown on the new device, or checked on the
// approving one.
type linkInfo struct {
	User   string `json:"user"`
	Device string `json:"device"`
	Token  string `json:"token,omitempty"`
	Code   string `json:"code"`
	PubKey string `json:"pubkey,omitempty"` // hex
}

// setupState is the first run in progress (guarded by controller.mu).
type setupState struct {
	running bool
	mode    string
	steps   []setupStep
	cur     int
	link    *linkInfo
	err     string
	cancel  context.CancelFunc
}

func (s *setupState) stop() {
	if s.cancel != nil {
		s.cancel()
	}
}

var (
	registerSteps = []string{"Check that the user ID is free", "Create the device key", "Get the fees paid", "Claim the user ID on chain", "Open the mailbox"}
	linkSteps     = []string{"Check that the user exists", "Create the device key", "Make the link request", "Wait for another device to approve", "Get the fees paid", "Open the mailbox"}
)

// handleSetup runs the page's first-run and device-link messages; it
// reports whether typ was one of them.
func (c *controller) handleSetup(typ string, raw []byte) bool {
	switch typ {
	case "setup":
		var m setupIn
		if err := json.Unmarshal(raw, &m); err != nil {
			c.notice("error", "setup", "The page sent a first-run request the client cannot read: "+err.Error())
			return true
		}
		c.startSetup(m)
	case "setupcancel":
		c.mu.Lock()
		c.setup.stop()
		c.mu.Unlock()
	case "linkcheck", "linkapprove":
		c.linkFromPage(typ, raw) // linkapprove.go
	default:
		return false
	}
	return true
}

// checkSetup checks what the person typed before anything is created.
func checkSetup(m setupIn) error {
	switch {
	case m.Mode != "register" && m.Mode != "link":
		return fmt.Errorf("unknown first-run mode %q", m.Mode)
	case m.Passphrase != m.Passphrase2:
		return errors.New("the two passphrases differ")
	case len(m.Passphrase) < minPassphrase:
		return fmt.Errorf("choose a passphrase of at least %d characters: it protects the device key on this computer", minPassphrase)
	}
	if err := identitytypes.ValidateUserID("user ID", m.User); err != nil {
		return fmt.Errorf("%v (3 to 32 characters: lowercase letters, digits, '.', '_', '-')", err)
	}
	if err := identitytypes.ValidateDeviceID("device name", m.Device); err != nil {
		return fmt.Errorf("%v (lowercase letters, digits, '.', '_', '-')", err)
	}
	return nil
}

func (c *controller) startSetup(m setupIn) {
	m.User, m.Device = strings.TrimSpace(m.User), strings.TrimSpace(m.Device)
	if err := checkSetup(m); err != nil {
		c.setupFailed(err)
		return
	}
	labels := registerSteps
	if m.Mode == "link" {
		labels = linkSteps
	}
	c.mu.Lock()
	switch {
	case c.cfg.Setup == nil:
		c.mu.Unlock()
		c.setupFailed(errors.New("this client does not offer a first run in the page: use `parley device init`"))
		return
	case c.phase != phaseSignIn:
		c.mu.Unlock()
		c.setupFailed(errors.New("already signed in"))
		return
	case c.setup.running:
		c.mu.Unlock()
		c.notice("warn", "", "The first run is already under way.")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkWait+2*payTimeout)
	c.setup = setupState{running: true, mode: m.Mode, cancel: cancel}
	for _, l := range labels {
		c.setup.steps = append(c.setup.steps, setupStep{Label: l, State: "todo"})
	}
	c.mu.Unlock()
	c.sendSetup()
	go func() {
		defer cancel()
		err := c.firstRun(ctx, m)
		c.mu.Lock()
		c.setup.running, c.setup.cancel = false, nil
		if err != nil {
			if len(c.setup.steps) > c.setup.cur {
				c.setup.steps[c.setup.cur].State = "failed"
			}
			c.setup.err = setupError(err, m)
		}
		c.mu.Unlock()
		if err != nil {
			c.logf("first run: %v", err)
		}
		c.sendSetup()
		c.sendState()
	}()
}

// setupFailed shows an error before the first run started.
func (c *controller) setupFailed(err error) {
	c.mu.Lock()
	c.setup.err = err.Error()
	c.mu.Unlock()
	c.sendSetup()
}

// step marks step i as under way (and those before it done).
func (c *controller) step(i int, detail string) {
	c.mu.Lock()
	for j := range c.setup.steps {
		switch {
		case j < i:
			c.setup.steps[j].State, c.setup.steps[j].Detail = "done", ""
		case j == i:
			c.setup.steps[j].State, c.setup.steps[j].Detail = "doing", detail
		}
	}
	c.setup.cur = i
	c.mu.Unlock()
	c.sendSetup()
}

// firstRun creates the device key and registers or links it, then signs
// in. A key whose user ID was neither claimed nor linked is deleted again.
func (c *controller) firstRun(ctx context.Context, m setupIn) (err error) {
	// 0: the user ID, read with a proof: free to claim, or there to link.
	c.step(0, "")
	snap, err := c.cfg.Chain.Reader().Latest(ctx)
	if err != nil {
		return err
	}
	_, err = snap.User(ctx, m.User)
	switch {
	case m.Mode == "register" && err == nil:
		return fmt.Errorf("%w: %s is registered already", errUserTaken, m.User)
	case m.Mode == "link" && errors.Is(err, verify.ErrNotFound):
		return fmt.Errorf("user %s is not registered on chain %s: claim it as a new user ID instead", m.User, c.cfg.Chain.ChainID())
	case err != nil && !errors.Is(err, verify.ErrNotFound):
		return err
	}

	c.step(1, "encrypting it with your passphrase")
	d, done, err := c.cfg.Setup.NewKey(m.User, m.Device, []byte(m.Passphrase))
	if err != nil {
		return err
	}
	onChain := false
	defer func() {
		if err != nil && !onChain {
			done()
			if derr := c.cfg.Setup.DeleteKey(m.User, m.Device); derr != nil {
				c.logf("first run: deleting the unused key %s/%s: %v", m.User, m.Device, derr)
			}
		}
	}()

	if m.Mode == "link" {
		if err := c.linkNew(ctx, d); err != nil {
			return err
		}
		onChain = true
		c.step(4, "")
	} else {
		c.step(2, "")
	}
	pay, err := c.payFor(d, func(s string) { c.stepDetail(s) })
	if err != nil {
		if onChain {
			done() // the key stays: it is on chain; sign in once fees are paid
		}
		return fmt.Errorf("%w (the device key is kept; sign in with it once its fees are paid)", err)
	}
	payer := c.cfg.Chain
	if pay != nil {
		payer = pay
	} else if payer.Account() == "" {
		return errors.New("no account pays this device's fees: start `parley ui` with --fee-granter ADDRESS (an organisation's grant), --org ACCOUNT on a localnet, or --from ACCOUNT")
	}
	if m.Mode == "register" {
		c.step(3, "")
		if _, err := identity.Register(ctx, payer, m.User, m.Device, d.Key); err != nil {
			if pay != nil {
				_ = pay.Close()
			}
			return err
		}
		onChain = true
	}
	c.step(len(c.setup.steps)-1, "")
	if err := c.enterLobbyPaid(d, done, pay); err != nil {
		return err
	}
	c.step(len(c.setup.steps), "")
	c.mu.Lock()
	c.setup = setupState{}
	c.mu.Unlock()
	return nil
}

// stepDetail says what the current step is doing now.
func (c *controller) stepDetail(s string) {
	c.mu.Lock()
	if c.setup.cur < len(c.setup.steps) {
		c.setup.steps[c.setup.cur].Detail = s
	}
	c.mu.Unlock()
	c.sendSetup()
}

// linkNew makes the link request of the new device d, shows it on the
// page and waits until another device of the user approves it.
func (c *controller) linkNew(ctx context.Context, d meeting.Device) error {
	c.step(2, "")
	r, err := identity.NewLink(ctx, c.cfg.Chain, d.UserID, d.DeviceID, d.Key)
	if err != nil {
		return err
	}
	code := identity.LinkCode(c.cfg.Chain.ChainID(), d.UserID, d.DeviceID, d.Key.PublicKey())
	c.mu.Lock()
	c.setup.link = &linkInfo{User: d.UserID, Device: d.DeviceID, Token: r.Encode(), Code: code}
	c.mu.Unlock()
	c.step(3, fmt.Sprintf("on a device of %s: Link a device, paste the request and check that it shows %s", d.UserID, code))
	dev, err := identity.WaitLinked(ctx, c.cfg.Chain, r, time.Second)
	if err != nil {
		return err
	}
	if err := c.cfg.Setup.Remember(d.UserID, d.DeviceID, d.Key.PublicKey(), "added"); err != nil {
		c.logf("first run: %v", err)
	}
	if snap, err := c.cfg.Chain.Reader().Latest(ctx); err == nil {
		if a, err := snap.Device(ctx, d.UserID, dev.AddedBy); err == nil {
			_ = c.cfg.Setup.Remember(d.UserID, a.DeviceId, a.Pubkey, "approver")
		}
	}
	c.mu.Lock()
	c.setup.link = nil
	c.mu.Unlock()
	return nil
}

// setupError words a first-run failure for the person.
func setupError(err error, m setupIn) string {
	switch {
	case errors.Is(err, errUserTaken):
		return fmt.Sprintf("The user ID %q is taken: choose another.", m.User)
	case errors.Is(err, chain.ErrTxFailed) && strings.Contains(err.Error(), "already registered"):
		return fmt.Sprintf("The user ID %q was just taken by someone else: choose another.", m.User)
	case errors.Is(err, chain.ErrUnreachable):
		return "The chain is unreachable: no node answered. Check that the chain runs and that --node points at it, then try again."
	case errors.Is(err, chain.ErrFeeGrant), errors.Is(err, chain.ErrAccountUnknown):
		return "No one pays this device's fees: " + err.Error()
	case errors.Is(err, context.Canceled):
		return "The first run was cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		return "The first run took too long (no approval came?): start again."
	}
	return err.Error()
}

// sendSetup tells the page where the first run stands.
func (c *controller) sendSetup() {
	c.mu.Lock()
	m := setupMsg{
		Type: "setup", Available: c.cfg.Setup != nil, Running: c.setup.running, Mode: c.setup.mode,
		Steps: append([]setupStep(nil), c.setup.steps...), Link: c.setup.link, Error: c.setup.err,
	}
	c.mu.Unlock()
	c.send(m)
}
