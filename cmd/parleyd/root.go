package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cobra"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/debug"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/pruning"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	"github.com/cosmos/cosmos-sdk/client/snapshot"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/node"
)

// NewRootCmd builds parleyd's command tree: init, start, keys, tx, query,
// genesis, version and the SDK's node maintenance commands.
func NewRootCmd() *cobra.Command {
	// A throwaway app yields the codecs and the autocli module options.
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.NewAppOptionsWithFlagHome(tempDir()))
	defer func() { _ = tempApp.Close() }()

	initClientCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(tempApp.LegacyAmino()).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(app.DefaultNodeHome).
		WithViper("PARLEYD")

	root := &cobra.Command{
		Use:           "parleyd",
		Short:         "Parley node: the meeting chain and its mailbox",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())
			clientCtx, err := client.ReadPersistentCommandFlags(initClientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err = config.ReadFromClientConfig(clientCtx)
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}
			appTemplate, appConfig := appConfigDefaults()
			return server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, cometConfigDefaults())
		},
	}

	basics := tempApp.BasicModuleManager
	root.AddCommand(
		genutilcli.InitCmd(basics, app.DefaultNodeHome),
		debug.Cmd(),
		pruning.Cmd(newApp, app.DefaultNodeHome),
		snapshot.Cmd(newApp),
	)
	server.AddCommandsWithStartCmdOptions(root, app.DefaultNodeHome, newApp, exportApp, server.StartCmdOptions{StartCommandHandler: node.StartCommandHandler, AddFlags: node.AddFlags})
	root.AddCommand(
		server.StatusCommand(),
		genutilcli.Commands(tempApp.TxConfig(), basics, app.DefaultNodeHome),
		queryCommand(),
		txCommand(),
		keys.Commands(),
	)

	autoCliOpts := tempApp.AutoCliOpts()
	autoCliOpts.ClientCtx = initClientCtx
	if err := autoCliOpts.EnhanceRootCommand(root); err != nil {
		panic(err)
	}
	return root
}

// cometConfigDefaults shortens block times from CometBFT's 5 s: a meeting
// waits for a block at every join and rekey.
func cometConfigDefaults() *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.Consensus.TimeoutCommit = 1_000_000_000 // 1 s
	return cfg
}

func appConfigDefaults() (string, any) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = "0" + app.BondDenom
	// store/v2 with goleveldb fails historical queries on stores that are
	// still empty ("version does not exist"); pebbledb does not.
	cfg.AppDBBackend = "pebbledb"
	cfg.IAVLCacheSize = app.DefaultIAVLCacheSize
	return appConfigTemplate(), cfg
}

// iavlCacheComment is the SDK template's comment on iavl-cache-size,
// which appConfigTemplate replaces with one that says what it bounds.
const iavlCacheComment = "# IavlCacheSize sets the size of the iavl tree cache (in number of nodes).\n"

// appConfigTemplate is the SDK's app.toml template with the memory bound
// iavl-cache-size explained where operators read it.
func appConfigTemplate() string {
	return strings.Replace(serverconfig.DefaultConfigTemplate, iavlCacheComment, fmt.Sprintf(`# iavl-cache-size is the number of IAVL tree nodes EACH store keeps in memory
# (about 300 bytes a node; the app has 11 stores). Every node a block writes
# enters its store's cache, so a node's memory grows with blocks until the
# caches are full. Parley's default, %d, bounds a full cache at about
# 3 MB; the SDK's 781250 would let an idle node grow for hours, by
# hundreds of MB (docs/PROTOCOL.md section 9, node memory settings).
`, app.DefaultIAVLCacheSize), 1)
}

func queryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "query",
		Aliases:                    []string{"q"},
		Short:                      "Querying subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		rpc.QueryEventForTxCmd(),
		rpc.ValidatorCommand(),
		server.QueryBlockCmd(),
		authcmd.QueryTxsByEventsCmd(),
		server.QueryBlocksCmd(),
		authcmd.QueryTxCmd(),
		server.QueryBlockResultsCmd(),
	)
	return cmd
}

func txCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tx",
		Short:                      "Transactions subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		authcmd.GetSignCommand(),
		authcmd.GetSignBatchCommand(),
		authcmd.GetMultiSignCommand(),
		authcmd.GetValidateSignaturesCommand(),
		flags.LineBreak,
		authcmd.GetBroadcastCommand(),
		authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(),
		authcmd.GetSimulateCmd(),
	)
	return cmd
}

func newApp(logger log.Logger, db dbm.DB, appOpts servertypes.AppOptions) servertypes.Application {
	return app.New(logger, db, true, appOpts, server.DefaultBaseappOptions(appOpts)...)
}

func exportApp(logger log.Logger, db dbm.DB, height int64, forZeroHeight bool,
	jailAllowedAddrs []string, appOpts servertypes.AppOptions, modulesToExport []string,
) (servertypes.ExportedApp, error) {
	if height == -1 {
		a := app.New(logger, db, true, appOpts)
		return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
	}
	a := app.New(logger, db, false, appOpts)
	if err := a.LoadHeight(height); err != nil {
		return servertypes.ExportedApp{}, errors.Join(errors.New("loading height for export"), err)
	}
	return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}

func tempDir() string {
	dir, err := os.MkdirTemp("", "parleyd-")
	if err != nil {
		return os.TempDir()
	}
	defer os.RemoveAll(dir)
	return dir
}
