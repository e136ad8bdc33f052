package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/identity"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

func newIdentityCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "identity", Short: "Users and their devices on chain"}
	cmd.AddCommand(
		registerCmd(g), approveCmd(g), addDeviceCmd(g), revokeCmd(g), resetCmd(g), showCmd(g), auditCmd(g),
	)
	return cmd
}

// userDeviceFlags adds the --user and --device flags most commands need.
func userDeviceFlags(c *cobra.Command, user, device *string, deviceHelp string) {
	c.Flags().StringVar(user, "user", "", "user ID")
	c.Flags().StringVar(device, "device", "", deviceHelp)
	_ = c.MarkFlagRequired("user")
	_ = c.MarkFlagRequired("device")
}

func registerCmd(g *globals) *cobra.Command {
	var user, device string
	c := &cobra.Command{
		Use:   "register",
		Short: "Claim a user ID with this device as its first device",
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := g.loadKey(user, device)
			if err != nil {
				return err
			}
			defer key.Close()
			ch, err := g.chainForDevice(key)
			if err != nil {
				return err
			}
			if _, err := identity.Register(cmd.Context(), ch, user, device, key); err != nil {
				return err
			}
			cmd.Printf("registered %s with device %s (owner %s)\n", user, device, ch.Account())
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this device's ID")
	return c
}

func approveCmd(g *globals) *cobra.Command {
	var user, device, newDevice, newPub, link, code string
	c := &cobra.Command{
		Use:   "approve",
		Short: "On an existing device: approve a new device (a link token, or its public key)",
		Long: "With --link TOKEN (from `parley device link` or the page on the new device): checks the\n" +
			"request against the chain, shows its verification code, asks you to confirm that the new\n" +
			"device shows the same code (or takes it from --code), and adds the device on chain. This\n" +
			"device's account must own the user: --from, or the device's own account.\n\n" +
			"With --new-device and --new-pubkey: signs a single-use approval and prints it as a token\n" +
			"for `parley identity add-device` on the new device.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if link != "" {
				return approveLink(cmd, g, user, device, link, code)
			}
			if newDevice == "" || newPub == "" {
				return fmt.Errorf("give --link TOKEN, or both --new-device and --new-pubkey")
			}
			pub, err := hex.DecodeString(strings.TrimSpace(newPub))
			if err != nil {
				return fmt.Errorf("--new-pubkey: not hex: %v", err)
			}
			key, err := g.loadKey(user, device)
			if err != nil {
				return err
			}
			defer key.Close()
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			a, err := identity.Approve(cmd.Context(), ch, user, device, key, newDevice, pub)
			if err != nil {
				return err
			}
			if err := g.known().Add(user, newDevice, pub, "approved"); err != nil {
				return err
			}
			cmd.PrintErrf("approved device %s (key %s) for %s at seq %d; single use\n", newDevice, newPub, user, a.Seq)
			cmd.Println(a.Encode())
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (approving) device's ID")
	c.Flags().StringVar(&link, "link", "", "link token shown by the new device (`parley device link` or its page)")
	c.Flags().StringVar(&code, "code", "", "with --link: the verification code the new device shows (else you are asked to compare)")
	c.Flags().StringVar(&newDevice, "new-device", "", "ID of the device to approve")
	c.Flags().StringVar(&newPub, "new-pubkey", "", "hex public key of the device to approve (from its `parley device init`)")
	return c
}

func addDeviceCmd(g *globals) *cobra.Command {
	var user, device, token string
	c := &cobra.Command{
		Use:   "add-device",
		Short: "On the new device: add it to the user with an approval token",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := identity.DecodeApproval(token)
			if err != nil {
				return err
			}
			if a.UserID != user || a.DeviceID != device {
				return fmt.Errorf("the approval is for %s/%s, not %s/%s", a.UserID, a.DeviceID, user, device)
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
			if _, err := identity.AddDevice(cmd.Context(), ch, a, key); err != nil {
				return err
			}
			if err := g.known().Add(user, device, key.PublicKey(), "added"); err != nil {
				return err
			}
			// The approver is a device this person holds too: remember it,
			// with the key the chain has for it, so audits on this device
			// know it.
			if snap, err := ch.Reader().Latest(cmd.Context()); err == nil {
				if d, err := snap.Device(cmd.Context(), user, a.Approver); err == nil {
					if err := g.known().Add(user, a.Approver, d.Pubkey, "approver"); err != nil {
						return err
					}
				}
			}
			cmd.Printf("added device %s to %s (approved by %s)\n", device, user, a.Approver)
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (new) device's ID")
	c.Flags().StringVar(&token, "approval", "", "approval token from `parley identity approve`")
	_ = c.MarkFlagRequired("approval")
	return c
}

func revokeCmd(g *globals) *cobra.Command {
	var user, device string
	c := &cobra.Command{
		Use:   "revoke TARGET-DEVICE",
		Short: "Revoke a device, signed by this active device (which may be the target)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := g.loadKey(user, device)
			if err != nil {
				return err
			}
			defer key.Close()
			ch, err := g.chainForDevice(key)
			if err != nil {
				return err
			}
			if _, err := identity.Revoke(cmd.Context(), ch, user, args[0], device, key); err != nil {
				return err
			}
			cmd.Printf("revoked device %s of %s (signed by %s)\n", args[0], user, device)
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (signing) device's ID")
	return c
}

func resetCmd(g *globals) *cobra.Command {
	var user, device string
	var yes bool
	c := &cobra.Command{
		Use:   "reset",
		Short: "Owner recovery: revoke EVERY device of the user and add this one",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return fmt.Errorf("reset revokes every device of %s and every contact will be warned; repeat with --yes", user)
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
			if _, err := identity.Reset(cmd.Context(), ch, user, device, key); err != nil {
				return err
			}
			if err := g.known().Add(user, device, key.PublicKey(), "reset"); err != nil {
				return err
			}
			cmd.Printf("RESET %s: every previous device revoked; %s is now its only device\n", user, device)
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "this (new) device's ID")
	c.Flags().BoolVar(&yes, "yes", false, "confirm the reset")
	return c
}

func showCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show USER",
		Short: "Show a user's devices and history (revoked devices and resets marked)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			snap, err := ch.Reader().Latest(ctx)
			if err != nil {
				return err
			}
			u, hist, devs, err := snap.Devices(ctx, args[0])
			if err != nil {
				return fmt.Errorf("user %s: %w", args[0], err)
			}
			cmd.Printf("user %s  owner %s  registered at height %d  seq %d  (proven at height %d)\n", u.UserId, u.Owner, u.CreatedHeight, u.Seq, snap.Height())
			if u.ResetCount > 0 {
				cmd.Printf("!!! WARNING: this user was RESET %d time(s): all earlier devices were replaced by the owner account\n", u.ResetCount)
			}
			cmd.Println("devices:")
			for _, d := range devs {
				state := "active"
				if d.RevokedHeight != 0 {
					state = fmt.Sprintf("REVOKED at height %d", d.RevokedHeight)
				}
				by := d.AddedBy
				if by == "" {
					by = "-"
				}
				cmd.Printf("  %-16s %x  added at %d by %s  %s\n", d.DeviceId, d.Pubkey, d.AddedHeight, by, state)
			}
			cmd.Println("history:")
			for _, e := range hist {
				op := strings.TrimPrefix(e.Op.String(), "OP_")
				if e.Op == identitytypes.Op_OP_RESET {
					op = "!!! RESET"
				}
				extra := ""
				if e.Approver != "" {
					extra = " by " + e.Approver
				}
				cmd.Printf("  #%d  height %d  %s %s%s\n", e.Seq, e.Height, op, e.DeviceId, extra)
			}
			return nil
		},
	}
}

func auditCmd(g *globals) *cobra.Command {
	var user string
	c := &cobra.Command{
		Use:   "audit",
		Short: "Compare the user's on-chain devices with the devices this person knows",
		Long: "Exits 0 when every active on-chain device was created or approved on this person's devices,\n" +
			"and 4 (naming each unknown device) otherwise.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := g.chain(false)
			if err != nil {
				return err
			}
			known, err := g.known().List(user)
			if err != nil {
				return err
			}
			rep, err := identity.Audit(cmd.Context(), ch, user, known)
			if err != nil {
				return err
			}
			cmd.Printf("%s: %d active device(s) on chain, %d known here\n", user, len(rep.Active), len(known))
			if rep.ResetCount > 0 {
				cmd.Printf("note: %s was reset %d time(s)\n", user, rep.ResetCount)
			}
			if rep.OK() {
				cmd.Println("audit OK: every active device is known")
				return nil
			}
			for _, f := range rep.Findings {
				cmd.Println("  " + f.String())
			}
			return exitError{code: 4, msg: fmt.Sprintf("audit failed: %d unknown device(s) for %s", len(rep.Findings), user)}
		},
	}
	c.Flags().StringVar(&user, "user", "", "user ID to audit")
	_ = c.MarkFlagRequired("user")
	return c
}
