package webui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

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
		return fmt.Errorf("device %s/%s is not on chain %s (register it with `parley identity register`, or link it from a device of %s)", user, device, c.cfg.Chain.ChainID(), user)
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
	return c.enterLobby(d, done, nil)
}

// enterLobby makes d the signed-in device: it gets the chain client that
// pays with d's account (progress tells the page what that involves),
// opens d's mailbox and moves to the lobby. On failure it wipes d (done).
func (c *controller) enterLobby(d meeting.Device, done func(), progress func(string)) error {
	pay, err := c.payFor(d, progress)
	if err != nil {
		done()
		return err
	}
	return c.enterLobbyPaid(d, done, pay)
}

// enterLobbyPaid is enterLobby with the paying client already got (nil:
// Config.Chain pays).
func (c *controller) enterLobbyPaid(d meeting.Device, done func(), pay *verify.Client) error {
	mb, err := c.cfg.NewMailbox(d)
	if err != nil {
		done()
		if pay != nil {
			_ = pay.Close()
		}
		return fmt.Errorf("mailbox: %w", err)
	}
	c.mu.Lock()
	if c.dev != nil {
		// Signed in another way meanwhile (a first run waits for minutes).
		c.mu.Unlock()
		_ = mb.Close()
		if pay != nil {
			_ = pay.Close()
		}
		done()
		return errors.New("already signed in")
	}
	c.dev, c.devDone, c.mbox, c.pay = &d, done, mb, pay
	c.mustMoveLocked(phaseLobby, "")
	c.mu.Unlock()
	c.logf("signed in as %s/%s", d.UserID, d.DeviceID)
	return nil
}

func (c *controller) signOut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.part != nil {
		return
	}
	c.releaseDeviceLocked()
	c.id = nil
	c.mustMoveLocked(phaseSignIn, "")
}

// releaseDeviceLocked closes what signing in opened (the mailbox, the
// unlocked key, the paying chain client) and forgets the device. c.mu
// must be held.
func (c *controller) releaseDeviceLocked() {
	if c.mbox != nil {
		_ = c.mbox.Close()
	}
	if c.devDone != nil {
		c.devDone()
	}
	if c.pay != nil {
		_ = c.pay.Close()
	}
	c.dev, c.devDone, c.mbox, c.pay = nil, nil, nil, nil
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
	// Starting again from the over screen passes through the lobby.
	if c.phase == phaseOver {
		c.mustMoveLocked(phaseLobby, "")
	}
	return *c.dev, nil
}
