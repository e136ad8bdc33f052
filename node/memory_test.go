package node

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/parleynet/parley/node/mailbox"
)

func TestMailboxStoreConfig(t *testing.T) {
	for _, c := range []struct {
		name            string
		args            []string
		wantEnvelopes   int
		wantBytes       int64
		wantErrContains string
	}{
		{"defaults", nil, mailbox.DefaultMaxEnvelopes, mailbox.DefaultMaxBytes, ""},
		{"set", []string{"--mailbox.max-envelopes", "5000", "--mailbox.max-bytes", "33554432"}, 5000, 32 << 20, ""},
		{"no envelopes", []string{"--mailbox.max-envelopes", "0"}, 0, 0, "--mailbox.max-envelopes 0"},
		{"below one envelope", []string{"--mailbox.max-bytes", "1000"}, 0, 0, "--mailbox.max-bytes 1000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			addMemoryFlags(cmd)
			if err := cmd.Flags().Parse(c.args); err != nil {
				t.Fatal(err)
			}
			v := viper.New()
			if err := v.BindPFlags(cmd.Flags()); err != nil {
				t.Fatal(err)
			}
			cfg, err := mailboxStoreConfig(v)
			if c.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrContains) {
					t.Fatalf("err = %v, want one naming %q", err, c.wantErrContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxEnvelopes != c.wantEnvelopes || cfg.MaxBytes != c.wantBytes {
				t.Errorf("got %d envelopes, %d bytes; want %d, %d", cfg.MaxEnvelopes, cfg.MaxBytes, c.wantEnvelopes, c.wantBytes)
			}
		})
	}
	// A viper without the flags (as in tests that build the handler's
	// inputs by hand) gives the defaults too.
	if cfg, err := mailboxStoreConfig(viper.New()); err != nil || cfg.MaxEnvelopes != mailbox.DefaultMaxEnvelopes || cfg.MaxBytes != mailbox.DefaultMaxBytes {
		t.Errorf("bare viper: %+v, %v", cfg, err)
	}
}
