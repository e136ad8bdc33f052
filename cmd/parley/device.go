package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/keystore"
)

func newDeviceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "This device's keys"}
	var user, device string
	var unencrypted bool
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create this device's Ed25519 key for a user",
		Long: "Creates a device key in <home>/keys, encrypted with a passphrase (asked on the terminal,\n" +
			"or from --passphrase-file / PARLEY_PASSPHRASE). --unencrypted is for tests and bots only.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.store()
			if err != nil {
				return err
			}
			var pass []byte
			if !unencrypted {
				if pass, err = g.passphrase(fmt.Sprintf("New passphrase for %s/%s: ", user, device), true); err != nil {
					return err
				}
				if len(pass) == 0 {
					return fmt.Errorf("no passphrase given: type one, use --passphrase-file, or --unencrypted for a bot")
				}
			}
			key, err := st.Create(user, device, pass, keystore.CreateOptions{Unencrypted: unencrypted})
			if err != nil {
				return err
			}
			defer key.Close()
			if err := g.known().Add(user, device, key.PublicKey(), "created"); err != nil {
				return err
			}
			cmd.Printf("created device key %s/%s\npubkey %s\n", user, device, hex.EncodeToString(key.PublicKey()))
			return nil
		},
	}
	initCmd.Flags().StringVar(&user, "user", "", "user ID the device belongs to")
	initCmd.Flags().StringVar(&device, "device", "", "device ID")
	initCmd.Flags().BoolVar(&unencrypted, "unencrypted", false, "store the private key unencrypted (tests and bots only)")
	_ = initCmd.MarkFlagRequired("user")
	_ = initCmd.MarkFlagRequired("device")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the device keys on this machine",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.store()
			if err != nil {
				return err
			}
			keys, skipped, err := st.List()
			if err != nil {
				return err
			}
			for _, k := range keys {
				enc := "encrypted"
				if !k.Encrypted {
					enc = "UNENCRYPTED"
				}
				cmd.Printf("%s/%s\t%s\t%s\n", k.UserID, k.DeviceID, k.PublicKeyHex, enc)
			}
			for _, s := range skipped {
				cmd.PrintErrf("skipped: %v\n", s)
			}
			return nil
		},
	}
	cmd.AddCommand(initCmd, listCmd, deviceLinkCmd(g), deviceAccountCmd(g))
	return cmd
}
