package node

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/parleynet/parley/node/mailbox"
)

// Start flags for the mailbox's memory bounds: how many envelopes, and how
// many bytes of them, a node holds for everyone at once (node/mailbox
// StoreConfig; the per-sender bounds stay the package's). Like every start
// flag they can be set in the environment: PARLEYD_MAILBOX_MAX_BYTES.
// The app's own memory settings are in app.toml (app.DefaultIAVLCacheSize;
// docs/PROTOCOL.md section 9, node memory settings).
const (
	FlagMailboxMaxEnvelopes = "mailbox.max-envelopes"
	FlagMailboxMaxBytes     = "mailbox.max-bytes"
)

func addMemoryFlags(cmd *cobra.Command) {
	cmd.Flags().Int(FlagMailboxMaxEnvelopes, mailbox.DefaultMaxEnvelopes,
		"most envelopes the mailbox holds at once, for all senders (env PARLEYD_MAILBOX_MAX_ENVELOPES)")
	cmd.Flags().Int64(FlagMailboxMaxBytes, mailbox.DefaultMaxBytes,
		"most bytes of envelopes the mailbox holds at once, for all senders (env PARLEYD_MAILBOX_MAX_BYTES)")
}

// mailboxStoreConfig reads the mailbox's bounds from the start flags (or
// their environment variables); unset, they are the package's defaults.
func mailboxStoreConfig(v *viper.Viper) (mailbox.StoreConfig, error) {
	cfg := mailbox.StoreConfig{MaxEnvelopes: mailbox.DefaultMaxEnvelopes, MaxBytes: mailbox.DefaultMaxBytes}
	if v.IsSet(FlagMailboxMaxEnvelopes) {
		cfg.MaxEnvelopes = v.GetInt(FlagMailboxMaxEnvelopes)
	}
	if v.IsSet(FlagMailboxMaxBytes) {
		cfg.MaxBytes = v.GetInt64(FlagMailboxMaxBytes)
	}
	if cfg.MaxEnvelopes < 1 {
		return cfg, fmt.Errorf("--%s %d: want at least 1", FlagMailboxMaxEnvelopes, cfg.MaxEnvelopes)
	}
	// Below one envelope's worth the mailbox could hold nothing.
	if cfg.MaxBytes < 1<<16 {
		return cfg, fmt.Errorf("--%s %d: want at least 65536 (one envelope)", FlagMailboxMaxBytes, cfg.MaxBytes)
	}
	return cfg, nil
}
