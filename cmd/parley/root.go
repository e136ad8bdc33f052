package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/parleynet/parley/client/meeting"
)

// globals are the settings every command shares; each has a PARLEY_*
// environment variable so scripts and the localnet can set them once.
type globals struct {
	home           string
	node           string
	chainID        string
	keyringDir     string
	keyringBackend string
	from           string
	fees           string
	feeGranter     string
	passphraseFile string
	mailbox        string
	trust          string
	insecure       bool
	inviteTrust    string // the anchor of an invite being joined, used when none is stored
	// signedInvite is the signed invite being joined; checkInvite verifies
	// it once the chain is open (its anchor is never adopted).
	signedInvite *meeting.Invite
	// onChainEvent, if set, is also told what the chain client reports
	// (failovers, lies, attacks): parley ui shows it in the page.
	onChainEvent func(string)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	home, _ := os.UserHomeDir()
	root := &cobra.Command{
		Use:           "parley",
		Short:         "Parley client: device keys, identity, meetings",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Results go to stdout so scripts can capture them; cobra's Print*
	// would otherwise write to stderr.
	root.SetOut(os.Stdout)
	f := root.PersistentFlags()
	f.StringVar(&g.home, "home", envOr("PARLEY_HOME", filepath.Join(home, ".parley")), "client home: device keys and known devices (PARLEY_HOME)")
	f.StringVar(&g.node, "node", envOr("PARLEY_NODE", "tcp://127.0.0.1:26657"), "node RPC addresses, comma-separated, tried in order (PARLEY_NODE)")
	f.StringVar(&g.chainID, "chain-id", envOr("PARLEY_CHAIN_ID", ""), "chain ID (PARLEY_CHAIN_ID)")
	f.StringVar(&g.keyringDir, "keyring-dir", envOr("PARLEY_KEYRING_DIR", filepath.Join(home, ".parleyd")), "Cosmos keyring directory (PARLEY_KEYRING_DIR)")
	f.StringVar(&g.keyringBackend, "keyring-backend", envOr("PARLEY_KEYRING_BACKEND", "os"), "Cosmos keyring backend: os|file|test (PARLEY_KEYRING_BACKEND)")
	f.StringVar(&g.from, "from", envOr("PARLEY_FROM", ""), "keyring account that signs and pays for transactions (PARLEY_FROM); identity commands without it pay with the device's own account")
	f.StringVar(&g.fees, "fees", envOr("PARLEY_FEES", ""), "fees per transaction, e.g. 0uparley (PARLEY_FEES)")
	f.StringVar(&g.feeGranter, "fee-granter", envOr("PARLEY_FEE_GRANTER", ""), "account address whose fee grant pays this device's transactions (PARLEY_FEE_GRANTER; see `parley org grant`)")
	f.StringVar(&g.mailbox, "mailbox", envOr("PARLEY_MAILBOX", "127.0.0.1:26680"), "mailbox gRPC addresses of nodes, comma-separated, tried in order (PARLEY_MAILBOX)")
	f.StringVar(&g.trust, "trust", envOr("PARLEY_TRUST", ""), "trust anchor HEIGHT:HASH of the chain (PARLEY_TRUST); replaces the stored one (see `parley trust`)")
	f.BoolVar(&g.insecure, "insecure-trust-node", false, "DEBUGGING ONLY: do not verify what nodes say; any node can then read your meetings")
	f.StringVar(&g.passphraseFile, "passphrase-file", envOr("PARLEY_PASSPHRASE_FILE", ""), "file holding the device key passphrase (PARLEY_PASSPHRASE_FILE; or PARLEY_PASSPHRASE)")

	root.AddCommand(
		newTrustCmd(g),
		newDeviceCmd(g),
		newIdentityCmd(g),
		newOrgCmd(g),
		newMeetingCmd(g),
		newDemoCmd(g),
		newCallCmd(g),
		newUICmd(g),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Run: func(cmd *cobra.Command, _ []string) {
				cmd.Println(version.Version)
			},
		},
	)
	return root
}
