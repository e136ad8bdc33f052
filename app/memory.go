package app

import (
	"encoding/json"

	"github.com/spf13/cast"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/server"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// What a node keeps in memory, and the state it keeps, grow with blocks
// only up to these bounds (issue 12 item 10; docs/PROTOCOL.md section 9,
// "node memory settings", and docs/PERFORMANCE.md, "soak").
const (
	// DefaultIAVLCacheSize is the iavl-cache-size parleyd init writes into
	// app.toml: how many IAVL tree nodes each of the app's 11 stores keeps
	// in memory. Every node a block writes goes into its store's cache, and
	// most are orphaned by a later block, so a cache fills with nodes of old
	// versions at the stores' write rate (about 17 a block on an idle node)
	// and only then stops growing. The SDK's 781,250 is about 240 MB a store,
	// which an idle node at 300 ms blocks takes hours to reach: its
	// memory grew linearly all that time. At 10,000 a full cache is about
	// 3 MB; reads of the latest state go through IAVL's fast-node index,
	// not this cache, and the nodes a block writes or proves near the root
	// stay in it.
	DefaultIAVLCacheSize = 10_000

	// DefaultHistoricalEntries is x/staking's historical_entries in the
	// genesis parleyd init writes. The SDK keeps the header and validator
	// set of each of the last 10,000 blocks in state for IBC light clients
	// of this chain; Parley runs no IBC and nothing reads them, and they
	// grew the staking store (and its caches) block by block for the
	// first 10,000 blocks. It is a staking parameter: governance can raise
	// it.
	DefaultHistoricalEntries uint32 = 0

	// iavlCacheWarnAbove is the iavl-cache-size above which New warns that
	// the node's memory may grow for hours: the SDK's default, which
	// app.toml files written before DefaultIAVLCacheSize still hold, is
	// far above it.
	iavlCacheWarnAbove = 100_000
)

// stakingBasic is x/staking's basics with Parley's default genesis
// (DefaultHistoricalEntries).
type stakingBasic struct{ staking.AppModuleBasic }

// DefaultGenesis returns staking's default genesis with
// DefaultHistoricalEntries.
func (stakingBasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := stakingtypes.DefaultGenesisState()
	gs.Params.HistoricalEntries = DefaultHistoricalEntries
	return cdc.MustMarshalJSON(gs)
}

// warnMemorySettings logs app.toml settings that let a node's memory grow
// far beyond what Parley's defaults allow.
func warnMemorySettings(logger log.Logger, appOpts servertypes.AppOptions, stores int) {
	if size := cast.ToInt(appOpts.Get(server.FlagIAVLCacheSize)); size > iavlCacheWarnAbove {
		logger.Warn("app.toml's iavl-cache-size lets each store keep that many IAVL nodes (about 300 bytes each) in memory; "+
			"memory then grows with blocks until every cache is full",
			"iavl-cache-size", size, "stores", stores, "parley_default", DefaultIAVLCacheSize)
	}
}
