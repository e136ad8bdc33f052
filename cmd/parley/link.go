package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
)

// approveLink is `parley identity approve --link`: check the request,
// have the person compare the verification code, add the device.
func approveLink(cmd *cobra.Command, g *globals, user, device, token, code string) error {
	r, err := identity.DecodeLink(token)
	if err != nil {
		return err
	}
	key, err := g.loadKey(user, device)
	if err != nil {
		return err
	}
	defer key.Close()
	ch, err := g.chainForDevice(key)
	if err != nil {
		return err
	}
	defer ch.Close()
	ctx := cmd.Context()
	want, err := identity.CheckLink(ctx, ch, user, r)
	if err != nil {
		return err
	}
	cmd.PrintErrf("device %q asks to join %s with key %x\nverification code: %s\n", r.DeviceID, r.UserID, []byte(r.PubKey), want)
	if code == "" {
		if code, err = confirmCode(want); err != nil {
			return err
		}
	}
	if _, err := identity.ApproveLink(ctx, ch, user, device, key, r, code); err != nil {
		return err
	}
	if err := g.known().Add(user, r.DeviceID, r.PubKey, "approved"); err != nil {
		return err
	}
	cmd.Printf("added device %s to %s (approved by %s)\n", r.DeviceID, user, device)
	return nil
}

// confirmCode asks the person on the terminal whether the new device
// shows the same code, and returns the code confirmed.
func confirmCode(want string) (string, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", errors.New("cannot ask you to compare the verification code (no terminal): pass the code the new device shows with --code")
	}
	fmt.Fprint(os.Stderr, "Does the new device show exactly this code? Type yes to approve it: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.ToLower(strings.TrimSpace(line)) != "yes" {
		return "", errors.New("not approved: the codes were not confirmed equal (if they differ, the token was replaced on its way: do not approve it)")
	}
	return want, nil
}

// deviceLinkCmd is `parley device link` on a new device.
func deviceLinkCmd(g *globals) *cobra.Command {
	var user, device string
	var unencrypted bool
	var wait time.Duration
	c := &cobra.Command{
		Use:   "link",
		Short: "On a new device: ask an existing device of the user to add this one",
		Long: "Creates this device's key (unless it exists), prints a link token and a verification code,\n" +
			"and waits until an existing device of the user approves it (`parley identity approve --link\n" +
			"TOKEN`, or the page's \"Link a device\"). Compare the code on both devices before approving.\n" +
			"This device needs no account and no tokens: the approving device sends the transaction.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := linkKey(g, user, device, unencrypted)
			if err != nil {
				return err
			}
			defer key.Close()
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			defer ch.Close()
			ctx := cmd.Context()
			r, err := identity.NewLink(ctx, ch, user, device, key)
			if err != nil {
				return err
			}
			cmd.Printf("link token (give it to a device of %s that is already set up):\n\n  %s\n\nverification code: %s\n",
				user, r.Encode(), identity.LinkCode(ch.ChainID(), user, device, key.PublicKey()))
			if wait == 0 {
				return nil
			}
			cmd.PrintErrf("waiting up to %s for the approval…\n", wait)
			wctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			d, err := identity.WaitLinked(wctx, ch, r, time.Second)
			if err != nil {
				return err
			}
			if snap, err := ch.Reader().Latest(ctx); err == nil {
				if a, err := snap.Device(ctx, user, d.AddedBy); err == nil {
					_ = g.known().Add(user, a.DeviceId, a.Pubkey, "approver")
				}
			}
			cmd.Printf("linked: %s/%s is active (approved by %s at height %d)\n", user, device, d.AddedBy, d.AddedHeight)
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (new) device's ID")
	c.Flags().BoolVar(&unencrypted, "unencrypted", false, "if the key is created: store it unencrypted (tests and bots only)")
	c.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the approval (0: print the token and exit)")
	return c
}

// linkKey loads the device key, or creates it as `parley device init` does.
func linkKey(g *globals, user, device string, unencrypted bool) (*keystore.DeviceKey, error) {
	st, err := g.store()
	if err != nil {
		return nil, err
	}
	keys, _, err := st.List()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.UserID == user && k.DeviceID == device {
			return g.loadKey(user, device)
		}
	}
	var pass []byte
	if !unencrypted {
		if pass, err = g.passphrase(fmt.Sprintf("New passphrase for %s/%s: ", user, device), true); err != nil {
			return nil, err
		}
		if len(pass) == 0 {
			return nil, errors.New("no passphrase given: type one, use --passphrase-file, or --unencrypted for a bot")
		}
	}
	key, err := st.Create(user, device, pass, keystore.CreateOptions{Unencrypted: unencrypted})
	if err != nil {
		return nil, err
	}
	if err := g.known().Add(user, device, key.PublicKey(), "created"); err != nil {
		key.Close()
		return nil, err
	}
	return key, nil
}
