package webui

import (
	"fmt"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/sframe"
)

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
	c.slots.keep(refs)
	// The page holds its send key until the engine moves (onSendEpoch),
	// unless the engine has already.
	hold := p.Engine().SendEpoch() < ep.Number
	msg := &epochMsg{Type: "epoch", Epoch: ep.Number, Code: ep.Code, Suite: uint16(sframe.DefaultSuite), GraceMS: call.DefaultGrace.Milliseconds(), Hold: hold}
	for i, m := range ep.Members {
		kid, key, salt, err := sframe.SenderKeyMaterial(sframe.DefaultSuite, ep.Key, uint32(i), ep.Number) //nolint:gosec // i < call.MaxMembers
		if err != nil {
			c.notice("error", "", "Cannot derive the call's new keys ("+fmt.Sprint(ep.Number)+"): "+err.Error())
			return
		}
		mi := memberInfo{User: m.User, Device: m.Device, KID: kid, Key: key, Salt: salt}
		if i == ep.Self {
			mi.Self = true
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
		c.mustMoveLocked(phaseCall, "")
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
