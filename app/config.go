package app

import (
	"os"
	"path/filepath"

	"github.com/parleynet/parley/internal/chainparams"
)

const (
	// Name is the application's name.
	Name = "parley"
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = chainparams.Bech32Prefix
	// BondDenom is the staking and fee denomination.
	BondDenom = chainparams.BondDenom
)

// DefaultNodeHome is parleyd's default home directory.
var DefaultNodeHome = func() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".parleyd")
}()

func init() { chainparams.SetSDKConfig() }
