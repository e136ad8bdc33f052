package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/org"
	"github.com/parleynet/parley/internal/chainparams"
)

func newOrgCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "What an organisation does for its people's devices"}
	cmd.AddCommand(orgGrantCmd(g))
	return cmd
}

func orgGrantCmd(g *globals) *cobra.Command {
	var spend, expires, msgs string
	c := &cobra.Command{
		Use:   "grant GRANTEE-ADDRESS",
		Short: "Pay a device account's fees for Parley's messages (x/feegrant), from --from",
		Long: "Sends a fee grant from the organisation's keyring account (--from) to GRANTEE-ADDRESS (a\n" +
			"device's account: `parley device account`, or what the page shows on its first run). The\n" +
			"grant pays only for Parley's own messages (--msgs identity,meeting), never for bank sends.\n" +
			"The device then transacts with --fee-granter set to the organisation's address.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			gr, err := parseGrant(spend, expires, msgs, time.Now())
			if err != nil {
				return err
			}
			ch, err := g.chain(true)
			if err != nil {
				return err
			}
			defer ch.Close()
			if _, err := org.Give(cmd.Context(), ch, args[0], gr); err != nil {
				return err
			}
			cmd.Printf("granted fees to %s from %s\ndevices use: --fee-granter %s (or PARLEY_FEE_GRANTER)\n", args[0], ch.Account(), ch.Account())
			return nil
		},
	}
	c.Flags().StringVar(&spend, "spend-limit", "", "most the grant pays in total, e.g. 1000000uparley (default: no limit)")
	c.Flags().StringVar(&expires, "expires", "", "when the grant ends: a duration (720h) or an RFC 3339 time (default: never)")
	c.Flags().StringVar(&msgs, "msgs", strings.Join(org.DefaultModules, ","), "modules whose messages the grant pays for: identity, meeting")
	return c
}

// parseGrant reads the grant flags.
func parseGrant(spend, expires, msgs string, now time.Time) (org.Grant, error) {
	var gr org.Grant
	if spend != "" {
		coins, err := sdk.ParseCoinsNormalized(spend)
		if err != nil {
			return gr, fmt.Errorf("--spend-limit %q: %v (want e.g. 1000000uparley)", spend, err)
		}
		gr.SpendLimit = coins
	}
	if expires != "" {
		if d, err := time.ParseDuration(expires); err == nil {
			gr.Expires = now.Add(d)
		} else if t, err := time.Parse(time.RFC3339, expires); err == nil {
			gr.Expires = t
		} else {
			return gr, fmt.Errorf("--expires %q: want a duration such as 720h or an RFC 3339 time", expires)
		}
	}
	for _, m := range strings.Split(msgs, ",") {
		if m = strings.TrimSpace(m); m != "" {
			gr.Modules = append(gr.Modules, m)
		}
	}
	return gr, nil
}

// deviceAccountCmd prints the account a device pays with when --from is
// not set, for an organisation to grant fees to.
func deviceAccountCmd(g *globals) *cobra.Command {
	var user, device string
	c := &cobra.Command{
		Use:   "account",
		Short: "Print the account address this device pays with (derived from its key)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := g.loadKey(user, device)
			if err != nil {
				return err
			}
			defer key.Close()
			acct, err := key.AccountKey()
			if err != nil {
				return err
			}
			chainparams.SetSDKConfig() // the address prefix
			cmd.Println(sdk.AccAddress(acct.PubKey().Address()).String())
			return nil
		},
	}
	userDeviceFlags(c, &user, &device, "device ID")
	return c
}
