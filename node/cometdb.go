package node

import (
	"fmt"

	cmtdb "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Settings bounding the memory of CometBFT's own databases (blockstore,
// state, tx_index, evidence), as start flags or in app.toml's [cometdb]
// section; the flag wins. They apply to config.toml's db_backend =
// "goleveldb", the default; another backend opens with its library's
// defaults.
//
// goleveldb's defaults are an 8 MiB block cache and a 4 MiB write buffer
// (memtable) per database, the memtable allocated in full when opened and
// doubled while one is being flushed: up to about 64 MiB of heap for the
// four, a third of a busy node's live heap in the memory soak, held
// whatever the load. CometBFT writes a few kilobytes a block and reads
// mostly the newest blocks, which the operating system's page cache holds
// anyway.
const (
	FlagCometDBBlockCache  = "cometdb.block-cache"
	FlagCometDBWriteBuffer = "cometdb.write-buffer"

	DefaultCometDBBlockCache  = 2 << 20
	DefaultCometDBWriteBuffer = 1 << 20

	// minCometDBSize is the least either may be: below it goleveldb
	// would flush or evict on almost every write or read.
	minCometDBSize = 64 << 10
)

func addCometDBFlags(cmd *cobra.Command) {
	cmd.Flags().Int(FlagCometDBBlockCache, DefaultCometDBBlockCache,
		"bytes of block cache each of CometBFT's goleveldb databases keeps (app.toml [cometdb] block-cache)")
	cmd.Flags().Int(FlagCometDBWriteBuffer, DefaultCometDBWriteBuffer,
		"bytes of write buffer (memtable) each of CometBFT's goleveldb databases keeps (app.toml [cometdb] write-buffer)")
}

// cometDBProvider is CometBFT's DBProvider with goleveldb opened under the
// [cometdb] bounds.
func cometDBProvider(v *viper.Viper) (cmtcfg.DBProvider, error) {
	o := &opt.Options{BlockCacheCapacity: DefaultCometDBBlockCache, WriteBuffer: DefaultCometDBWriteBuffer}
	for _, s := range []struct {
		flag string
		to   *int
	}{{FlagCometDBBlockCache, &o.BlockCacheCapacity}, {FlagCometDBWriteBuffer, &o.WriteBuffer}} {
		if v.IsSet(s.flag) {
			*s.to = v.GetInt(s.flag)
		}
		if *s.to < minCometDBSize {
			return nil, fmt.Errorf("--%s %d: want at least %d bytes", s.flag, *s.to, minCometDBSize)
		}
	}
	return func(ctx *cmtcfg.DBContext) (cmtdb.DB, error) {
		if cmtdb.BackendType(ctx.Config.DBBackend) != cmtdb.GoLevelDBBackend {
			return cmtcfg.DefaultDBProvider(ctx)
		}
		return cmtdb.NewGoLevelDBWithOpts(ctx.ID, ctx.Config.DBDir(), o)
	}, nil
}
