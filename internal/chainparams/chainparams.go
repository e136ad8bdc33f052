// Package chainparams holds the chain constants that both the node (app)
// and the client need, so the client never imports the app.
package chainparams

import (
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// Bech32Prefix is the account address prefix.
	Bech32Prefix = "parley"
	// ValoperPrefix and ValconsPrefix are the validator address prefixes.
	ValoperPrefix = Bech32Prefix + "valoper"
	ValconsPrefix = Bech32Prefix + "valcons"
	// BondDenom is the staking and fee denomination.
	BondDenom = "uparley"
)

// SetSDKConfig configures the SDK's global bech32 prefixes and bond denom.
// Parley's modules use injected address codecs; the global config is still
// read by the SDK's CLI and keyring, so both must agree. It runs once per
// process: the SDK's config is a global without a lock, and clients are
// made from many goroutines.
func SetSDKConfig() { setOnce.Do(setSDKConfig) }

var setOnce sync.Once

func setSDKConfig() {
	cfg := sdk.GetConfig()
	cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(ValoperPrefix, ValoperPrefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForConsensusNode(ValconsPrefix, ValconsPrefix+sdk.PrefixPublic)
	sdk.DefaultBondDenom = BondDenom
}
