package webui

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/meeting"
)

// linkIn is the signed-in page's "linkcheck" (Token) or "linkapprove"
// (Token and the Code the person confirmed) request: another device of
// this user asks to be added.
type linkIn struct {
	Token string `json:"token"`
	Code  string `json:"code"`
}

// linkInfoMsg answers a linkcheck: the request, and the verification code
// the person must find on the new device before approving.
type linkInfoMsg struct {
	Type string `json:"type"` // "linkinfo"
	linkInfo
}

// linkFromPage checks or approves a link request pasted into the page.
// Both run as operations (exclusive): they read the chain, and the
// approval is a transaction.
func (c *controller) linkFromPage(typ string, raw []byte) {
	var m linkIn
	if err := json.Unmarshal(raw, &m); err != nil {
		c.notice("error", "link", "The page sent a link request the client cannot read: "+err.Error())
		return
	}
	c.mu.Lock()
	dev := c.dev
	c.mu.Unlock()
	if dev == nil {
		c.notice("error", "link", "Sign in first: a device that is already set up approves new ones.")
		return
	}
	r, err := identity.DecodeLink(m.Token)
	if err != nil {
		c.notice("error", "link", err.Error())
		return
	}
	if typ == "linkcheck" {
		c.exclusive("link", func(ctx context.Context) error { return c.checkLink(ctx, *dev, r) })
		return
	}
	c.exclusive("link", func(ctx context.Context) error { return c.approveLink(ctx, *dev, r, m.Code) })
}

func (c *controller) checkLink(ctx context.Context, d meeting.Device, r identity.LinkRequest) error {
	code, err := identity.CheckLink(ctx, c.txChain(), d.UserID, r)
	if err != nil {
		return err
	}
	c.send(linkInfoMsg{Type: "linkinfo", linkInfo: linkInfo{User: r.UserID, Device: r.DeviceID, Code: code, PubKey: hex.EncodeToString(r.PubKey)}})
	return nil
}

func (c *controller) approveLink(ctx context.Context, d meeting.Device, r identity.LinkRequest, code string) error {
	if _, err := identity.ApproveLink(ctx, c.txChain(), d.UserID, d.DeviceID, d.Key, r, code); err != nil {
		return err
	}
	if c.cfg.Setup != nil {
		if err := c.cfg.Setup.Remember(r.UserID, r.DeviceID, r.PubKey, "approved"); err != nil {
			c.logf("link: %v", err)
		}
	}
	c.logf("approved device %s/%s", r.UserID, r.DeviceID)
	c.send(linkInfoMsg{Type: "linkinfo", linkInfo: linkInfo{User: r.UserID, Device: r.DeviceID, Code: "approved"}})
	c.notice("info", "", fmt.Sprintf("Added device %s to %s: it signs in by itself now.", r.DeviceID, r.UserID))
	return nil
}
