package app

import (
	"os"
	"path/filepath"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// Name is the application's name.
	Name = "parley"
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = "parley"
	// BondDenom is the staking and fee denomination.
	BondDenom = "uparley"
)

// DefaultNodeHome is parleyd's default home directory.
var DefaultNodeHome = func() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".parleyd")
}()

// SetAddressPrefixes configures the SDK's global bech32 prefixes. The
// modules use injected address codecs; the global config is still read by
// the SDK's CLI and keyring, so both must agree.
func SetAddressPrefixes() {
	cfg := sdk.GetConfig()
	cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
	cfg.SetBech32PrefixForConsensusNode(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
	sdk.DefaultBondDenom = BondDenom
}

func init() { SetAddressPrefixes() }
