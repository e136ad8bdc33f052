package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	pvm "github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servercmtlog "github.com/cosmos/cosmos-sdk/server/log"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/telemetry"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/node/mailbox"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// Start flags parleyd adds to the SDK's (through AddFlags). Like every
// start flag they can be set in the environment too: PARLEYD_MAILBOX_ADDRESS.
const (
	FlagMailboxAddress    = "mailbox.address"
	DefaultMailboxAddress = "127.0.0.1:26680"
)

// ErrStandalone is returned for `start --with-comet=false` and
// `--grpc-only`: the mailbox gossips over CometBFT's p2p switch, so
// parleyd has no mode without CometBFT in the same process.
var ErrStandalone = errors.New("parleyd runs CometBFT in process: --with-comet=false and --grpc-only are not supported")

// AddFlags adds parleyd's start flags; it is server.StartCmdOptions.AddFlags.
func AddFlags(cmd *cobra.Command) {
	cmd.Flags().String(FlagMailboxAddress, DefaultMailboxAddress,
		"host:port the mailbox gRPC service listens on (env PARLEYD_MAILBOX_ADDRESS)")
	addTURNFlags(cmd)
	addMediaRelayFlags(cmd)
	addMemoryFlags(cmd)
	addMemoryLimitFlag(cmd)
	addCometDBFlags(cmd)
}

// StartCommandHandler is server.StartCmdOptions.StartCommandHandler. It
// does what the SDK's in-process start does — open the app DB, create the
// app, start CometBFT, register the tx, CometBFT and node services, start
// the SDK gRPC server and, when enabled, the REST API server — and adds the
// mailbox: its reactor on CometBFT's switch and its gRPC service on
// --mailbox.address. Everything stops on SIGINT or SIGTERM, or when any
// part fails. parleyd registers no in-place-testnet command, so the SDK's
// testnet path (KeyIsTestnet) is not reproduced here.
func StartCommandHandler(svrCtx *server.Context, clientCtx client.Context, appCreator servertypes.AppCreator,
	inProcessConsensus bool, opts server.StartCmdOptions,
) (err error) {
	if !inProcessConsensus || svrCtx.Viper.GetBool("grpc-only") {
		return ErrStandalone
	}
	svrCfg, err := serverconfig.GetConfig(svrCtx.Viper)
	if err != nil {
		return fmt.Errorf("reading app config: %w", err)
	}
	if err := svrCfg.ValidateBasic(); err != nil {
		return fmt.Errorf("app config: %w", err)
	}
	cmtCfg := svrCtx.Config
	home := cmtCfg.RootDir
	logger := svrCtx.Logger

	if err := telemetry.InitializeOpenTelemetry(filepath.Join(home, "config", telemetry.OtelFileName)); err != nil {
		return fmt.Errorf("initialising OpenTelemetry: %w", err)
	}
	genesis, err := genutiltypes.AppGenesisFromFile(cmtCfg.GenesisFile())
	if err != nil {
		return fmt.Errorf("reading genesis: %w", err)
	}

	// Listen first, so that a taken port fails the start before anything
	// else is opened.
	mailboxAddr := svrCtx.Viper.GetString(FlagMailboxAddress)
	if mailboxAddr == "" {
		mailboxAddr = DefaultMailboxAddress
	}
	storeCfg, err := mailboxStoreConfig(svrCtx.Viper)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	if limit, err := applyMemoryLimit(svrCtx.Viper); err != nil {
		return err
	} else if limit > 0 {
		logger.Info("Go runtime memory limit set", "mib", limit>>20, "flag", FlagMemoryLimit)
	}
	dbProvider, err := cometDBProvider(svrCtx.Viper)
	if err != nil {
		return fmt.Errorf("cometdb: %w", err)
	}
	lis, err := net.Listen("tcp", mailboxAddr)
	if err != nil {
		return fmt.Errorf("mailbox: listening on --%s %q: %w", FlagMailboxAddress, mailboxAddr, err)
	}
	serving := false
	defer func() {
		if !serving {
			_ = lis.Close()
		}
	}()

	openDB := opts.DBOpener
	if openDB == nil {
		openDB = defaultOpenDB
	}
	db, err := openDB(home, server.GetAppDBBackend(svrCtx.Viper))
	if err != nil {
		return fmt.Errorf("opening app database: %w", err)
	}
	application := appCreator(logger, db, svrCtx.Viper)
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := telemetry.Shutdown(shutdownCtx); err != nil {
			logger.Error("stopping telemetry", "err", err)
		}
		if err := application.Close(); err != nil {
			logger.Error("closing app", "err", err)
		}
	}()
	parley, ok := application.(*app.App)
	if !ok {
		return fmt.Errorf("mailbox: the app is a %T, want *app.App", application)
	}
	metrics, err := telemetry.New(svrCfg.Telemetry) //nolint:staticcheck // as the SDK's start does
	if err != nil {
		return fmt.Errorf("starting telemetry: %w", err)
	}

	mb, err := mailbox.New(mailbox.Config{ChainID: genesis.ChainID, Keys: AppDeviceKeys{App: parley}, Store: storeCfg})
	if err != nil {
		return err
	}
	mb.Reactor.SetLogger(servercmtlog.CometLoggerWrapper{Logger: logger.With("module", "mailbox")})

	// Not blocking on the signal inside the group, unlike the SDK: a part
	// that fails cancels ctx, the others return, and start exits with the
	// error instead of waiting for a signal.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	server.ListenForQuitSignals(g, false, cancel, logger)
	if err := startTURN(ctx, g, svrCtx.Viper, home, mb, parley, logger.With("module", "turn")); err != nil {
		return fmt.Errorf("turn: %w", err)
	}
	reactors := map[string]p2p.Reactor{mailbox.ReactorName: mb.Reactor}
	cascade, err := startMediaRelay(ctx, g, svrCtx.Viper, mb, parley, logger.With("module", "media-relay"))
	if err != nil {
		return fmt.Errorf("media relay: %w", err)
	}
	if cascade != nil {
		reactors[CascadeReactorName] = cascade
	}

	logger.Info("starting node with ABCI CometBFT in-process")
	tmNode, err := startCometBFT(ctx, cmtCfg, application, logger, genesis, reactors, dbProvider)
	if err != nil {
		return fmt.Errorf("starting CometBFT: %w", err)
	}
	defer func() {
		if tmNode.IsRunning() {
			if err := tmNode.Stop(); err != nil {
				logger.Error("stopping CometBFT", "err", err)
			}
		}
	}()

	if svrCfg.API.Enable || svrCfg.GRPC.Enable {
		clientCtx = clientCtx.WithClient(local.New(tmNode))
		application.RegisterTxService(clientCtx)
		application.RegisterTendermintService(clientCtx)
		application.RegisterNodeService(clientCtx, svrCfg)
	}
	grpcSrv, clientCtx, err := server.StartGrpcServer(ctx, g, svrCfg.GRPC, clientCtx, svrCtx, application)
	if err != nil {
		return fmt.Errorf("starting gRPC server: %w", err)
	}
	if svrCfg.API.Enable {
		apiSrv := api.New(clientCtx.WithHomeDir(home), logger.With("module", "api-server"), grpcSrv)
		application.RegisterAPIRoutes(apiSrv, svrCfg.API)
		if svrCfg.Telemetry.Enabled { //nolint:staticcheck // as the SDK's start does
			apiSrv.SetTelemetry(metrics)
		}
		g.Go(func() error { return apiSrv.Start(ctx, svrCfg) })
	}

	serving = true
	g.Go(func() error { return mb.Run(ctx) })
	g.Go(func() error { return mb.Serve(ctx, lis) })
	logger.Info("mailbox serving", "address", lis.Addr().String(), "chain_id", genesis.ChainID)

	if opts.PostSetup != nil {
		if err := opts.PostSetup(svrCtx, clientCtx, ctx, g); err != nil {
			cancel()
			return errors.Join(err, g.Wait())
		}
	}
	return g.Wait()
}

// startCometBFT starts CometBFT in process, as the SDK's startCmtNode does,
// with the node's own reactors on its switch (the mailbox's, and the
// media relays' cascade when the relay is on) and its databases opened by
// dbProvider (cometDBProvider).
func startCometBFT(ctx context.Context, cfg *cmtcfg.Config, application servertypes.Application,
	logger log.Logger, genesis *genutiltypes.AppGenesis, reactors map[string]p2p.Reactor, dbProvider cmtcfg.DBProvider,
) (*cmtnode.Node, error) {
	nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	tmNode, err := cmtnode.NewNodeWithContext(ctx, cfg,
		pvm.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile()),
		nodeKey,
		proxy.NewLocalClientCreator(server.NewCometABCIWrapper(application)),
		func() (*cmttypes.GenesisDoc, error) { return genesis.ToGenesisDoc() },
		dbProvider,
		cmtnode.DefaultMetricsProvider(cfg.Instrumentation),
		servercmtlog.CometLoggerWrapper{Logger: logger},
		cmtnode.CustomReactors(reactors),
	)
	if err != nil {
		return nil, err
	}
	if err := tmNode.Start(); err != nil {
		return nil, err
	}
	return tmNode, nil
}

func defaultOpenDB(home string, backend dbm.BackendType) (dbm.DB, error) {
	return dbm.NewDB("application", backend, filepath.Join(home, "data"))
}

// AppDeviceKeys reads device keys for the mailbox from the app's latest
// committed state, through the same kind of query context the SDK's gRPC
// queries use: a cache branch of the committed multistore, safe to read
// while a block executes.
type AppDeviceKeys struct {
	App *app.App
}

var _ mailbox.DeviceKeys = AppDeviceKeys{}

// ActiveDeviceKey implements mailbox.DeviceKeys.
func (k AppDeviceKeys) ActiveDeviceKey(ctx context.Context, user, device string) (key []byte, err error) {
	// This runs on gRPC handlers and p2p receive routines; a panic in a
	// store read must not take them down.
	defer func() {
		if r := recover(); r != nil {
			key, err = nil, fmt.Errorf("reading device %s/%s: %v", user, device, r)
		}
	}()
	// Height 0 is the latest committed block. The header check is skipped:
	// it only fails in the moment between a commit and the next check
	// state, and the header is not used here.
	sdkCtx, err := k.App.CreateQueryContextWithCheckHeader(0, false, false)
	if err != nil {
		return nil, err
	}
	d, err := k.App.IdentityKeeper.ActiveDevice(sdkCtx.WithContext(ctx), user, device)
	// The messages are built here: the SDK's wrapped errors print a source
	// location, which is no business of a mailbox client.
	switch {
	case errors.Is(err, identitytypes.ErrDeviceNotFound):
		return nil, fmt.Errorf("%w: device %s/%s is not on chain", mailbox.ErrUnknownSender, user, device)
	case errors.Is(err, identitytypes.ErrDeviceRevoked):
		return nil, fmt.Errorf("%w: device %s/%s was revoked at height %d", mailbox.ErrUnknownSender, user, device, d.RevokedHeight)
	case err != nil:
		return nil, errors.New(err.Error())
	}
	return d.Pubkey, nil
}
