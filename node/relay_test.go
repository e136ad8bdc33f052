package node

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/parleynet/parley/node/turn"
)

func turnViper(t *testing.T, args ...string) *viper.Viper {
	t.Helper()
	cmd := &cobra.Command{}
	addTURNFlags(cmd)
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTURNConfig(t *testing.T) {
	home := t.TempDir()
	if _, ok, err := turnConfig(turnViper(t), home); ok || err != nil {
		t.Fatalf("off by default: ok %v, err %v", ok, err)
	}
	if _, _, err := turnConfig(turnViper(t, "--turn.enable"), home); err == nil || !strings.Contains(err.Error(), "--turn.public-ip is required") {
		t.Fatalf("enabled on 0.0.0.0 without a public IP: %v", err)
	}
	cfg, ok, err := turnConfig(turnViper(t, "--turn.enable", "--turn.udp", "198.51.100.1:3478", "--turn.tcp", "",
		"--turn.relay-ports", "50000-50100", "--turn.credential-ttl", "5m"), home)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !cfg.PublicIP.Equal(net.ParseIP("198.51.100.1")) || len(cfg.TCP) != 0 || cfg.RelayPortMin != 50000 || cfg.RelayPortMax != 50100 ||
		cfg.CredentialTTL.Minutes() != 5 || cfg.MaxDeviceAllocations != turn.DefaultMaxDeviceAllocations {
		t.Errorf("config %+v", cfg)
	}
	secret, err := os.ReadFile(filepath.Join(home, DefaultTURNSecretFile))
	if err != nil || strings.TrimSpace(string(secret)) != string(cfg.Secret) {
		t.Errorf("secret not generated under the home: %v", err)
	}
	for _, bad := range [][]string{
		{"--turn.enable", "--turn.public-ip", "not-an-ip"},
		{"--turn.enable", "--turn.public-ip", "198.51.100.1", "--turn.relay-ports", "50000"},
		{"--turn.enable", "--turn.public-ip", "198.51.100.1", "--turn.tls", "0.0.0.0:5349"},
	} {
		if _, _, err := turnConfig(turnViper(t, bad...), home); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
