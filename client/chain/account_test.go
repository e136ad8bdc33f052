package chain

import (
	"strings"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

func TestAccountKeyAndFeeGranter(t *testing.T) {
	key := secp256k1.GenPrivKey()
	granter := secp256k1.GenPrivKey()
	base := Config{Node: "tcp://127.0.0.1:1", ChainID: "parley-test"}
	if _, err := NewEncoding(); err != nil { // the bech32 prefix
		t.Fatal(err)
	}
	granterAddr := sdk.AccAddress(granter.PubKey().Address()).String()

	cfg := base
	cfg.AccountKey, cfg.FeeGranter = key, granterAddr
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := sdk.AccAddress(key.PubKey().Address()).String(); c.Account() != want {
		t.Errorf("account %s, want %s (the key's)", c.Account(), want)
	}
	if c.FeeGranter() != granterAddr {
		t.Errorf("fee granter %q, want %q", c.FeeGranter(), granterAddr)
	}

	for name, c := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"both an account key and --from": {func(c *Config) { c.AccountKey, c.From = key, "alice" }, "use one"},
		"a granter that is no address":   {func(c *Config) { c.AccountKey, c.FeeGranter = key, "org" }, "fee granter"},
	} {
		cfg := base
		c.mod(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}
