package webui

import (
	"bytes"
	"context"
	"time"

	"github.com/parleynet/parley/client/meeting"
)

// leaderInvite is the signed invite the page shows its leader, with its
// .ics; made once per meeting, off the page's goroutine (it reads the
// meeting with a proof, which waits for a block).
type leaderInvite struct {
	id     []byte // the meeting it is for
	making bool
	link   string
	ics    string
}

// signedInvite returns the link and .ics of the leader's signed invite of
// meeting id when made, and starts making it if not. Called with c.mu held.
func (c *controller) signedInvite(id []byte, d *meeting.Device) (link, ics string) {
	li := &c.invite
	if !bytes.Equal(li.id, id) {
		*li = leaderInvite{id: id}
	}
	if li.link != "" || li.making || d == nil {
		return li.link, li.ics
	}
	li.making = true
	dev := *d
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		link, ics := c.makeInvite(ctx, id, dev)
		c.mu.Lock()
		if bytes.Equal(c.invite.id, id) {
			c.invite.making, c.invite.link, c.invite.ics = false, link, ics
		}
		c.mu.Unlock()
		if link != "" {
			c.sendState()
		}
	}()
	return "", ""
}

// makeInvite reads the meeting with a proof (a new meeting is provable a
// block after it was created, and a handed-over leadership a block after
// the session told it: retried until ctx ends) and signs its invite.
func (c *controller) makeInvite(ctx context.Context, id []byte, d meeting.Device) (link, ics string) {
	for {
		snap, err := c.cfg.Chain.Reader().Latest(ctx)
		if err == nil {
			if m, err := snap.Meeting(ctx, id); err == nil && m.LeaderUser == d.UserID && m.LeaderDevice == d.DeviceID {
				inv := meeting.SignInvite(d, meeting.InviteFor(c.cfg.Chain.ChainID(), m, c.cfg.Chain.Anchor()))
				return inv.Invite().Link(), string(meeting.InviteCalendar(inv, time.Unix(m.ExpiresAt, 0), time.Now()))
			}
		}
		select {
		case <-ctx.Done():
			c.logf("signed invite of %x not made: %v", id, ctx.Err())
			return "", ""
		case <-time.After(time.Second):
		}
	}
}
