package webui

import (
	"encoding/hex"

	"github.com/parleynet/parley/client/meeting"
)

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
	st := stateMsg{Type: "state", Phase: c.phase.String(), ChainID: c.cfg.Chain.ChainID(), Leader: c.leader, Reason: c.reason}
	if c.dev != nil {
		st.Self = &memberInfo{User: c.dev.UserID, Device: c.dev.DeviceID, Self: true}
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
		if err == nil && len(list) == 0 && c.cfg.Setup == nil {
			warn = "This client holds no device key yet: create one with `parley device init` and register it with `parley identity register`."
		}
	}
	c.send(st)
	if phase == phaseSignIn {
		c.sendSetup() // firstrun.go
	}
	if fail != "" {
		c.notice("error", "keys", fail)
	}
	if warn != "" {
		c.notice("warn", "keys", warn)
	}
}
