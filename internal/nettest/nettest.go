// Package nettest starts a real in-process Parley chain for tests, the way
// net/http/httptest starts a real server: CometBFT consensus, the full app,
// RPC on loopback, and funded test accounts in a test keyring on disk that
// client/chain can sign with.
package nettest

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/verify"
)

// Accounts are the funded test accounts every network has.
var Accounts = []string{"alice", "bob", "carol", "dave"}

// Network is a running in-process chain.
type Network struct {
	*network.Network
	ChainID    string
	RPC        string // tcp://127.0.0.1:port of validator 0
	KeyringDir string // test keyring holding Accounts
}

// Options tune a network.
type Options struct {
	Validators int           // default 1
	BlockTime  time.Duration // default 200 ms
}

// stuck is set when network.New failed: the SDK then holds its lock
// for good, and New fails at once instead of waiting on it.
var stuck atomic.Bool

// New starts a network and stops it when the test ends.
func New(t testing.TB, opts Options) *Network {
	t.Helper()
	if opts.Validators == 0 {
		opts.Validators = 1
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 200 * time.Millisecond
	}
	enc, err := chain.NewEncoding()
	if err != nil {
		t.Fatal(err)
	}
	tmp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	cfg := network.DefaultConfig(func() network.TestFixture { return network.TestFixture{} })
	cfg.Codec = tmp.AppCodec()
	cfg.TxConfig = tmp.TxConfig()
	cfg.LegacyAmino = tmp.LegacyAmino()
	cfg.InterfaceRegistry = tmp.InterfaceRegistry()
	cfg.AccountRetriever = authtypes.AccountRetriever{}
	cfg.GenesisState = tmp.DefaultGenesis()
	cfg.ChainID = "parley-test"
	cfg.NumValidators = opts.Validators
	cfg.TimeoutCommit = opts.BlockTime
	cfg.BondDenom = app.BondDenom
	cfg.MinGasPrices = "0" + app.BondDenom
	cfg.RPCAddress = "tcp://" + freeAddr(t)
	cfg.APIAddress = "tcp://" + freeAddr(t)
	cfg.GRPCAddress = freeAddr(t)
	cfg.AppConstructor = func(val network.ValidatorI) servertypes.Application {
		return app.New(val.GetCtx().Logger, dbm.NewMemDB(), true,
			simtestutil.NewAppOptionsWithFlagHome(val.GetCtx().Config.RootDir),
			baseapp.SetMinGasPrices(val.GetAppConfig().MinGasPrices),
			baseapp.SetChainID(cfg.ChainID))
	}

	keyringDir := t.TempDir()
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, keyringDir, nil, enc.Codec)
	if err != nil {
		t.Fatal(err)
	}
	var accs []authtypes.GenesisAccount
	var bals []banktypes.Balance
	for _, name := range Accounts {
		rec, _, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := rec.GetAddress()
		accs = append(accs, authtypes.NewBaseAccount(addr, nil, 0, 0))
		bals = append(bals, banktypes.Balance{Address: addr.String(), Coins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))})
	}
	addGenesisAccounts(t, &cfg, accs, bals)

	if stuck.Load() {
		t.Fatal("an earlier test network of this package failed to start, and the SDK keeps its network lock after that: no other can start")
	}
	net, err := network.New(t, t.TempDir(), cfg)
	if err != nil {
		// network.New returns no Network to clean up when a validator
		// fails to start (a port taken between the SDK's choosing it and
		// listening on it), and keeps its package lock: every later
		// New would wait for it until the test binary times out.
		stuck.Store(true)
		t.Fatal(err)
	}
	t.Cleanup(net.Cleanup)
	if _, err := net.WaitForHeight(1); err != nil {
		t.Fatal(err)
	}
	return &Network{Network: net, ChainID: cfg.ChainID, RPC: cfg.RPCAddress, KeyringDir: keyringDir}
}

// Client returns a chain client paying with the named test account.
func (n *Network) Client(t testing.TB, from string) *chain.Client {
	t.Helper()
	c, err := chain.New(chain.Config{
		Node: n.RPC, ChainID: n.ChainID, KeyringDir: n.KeyringDir,
		KeyringBackend: keyring.BackendTest, From: from,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addGenesisAccounts(t testing.TB, cfg *network.Config, accs []authtypes.GenesisAccount, bals []banktypes.Balance) {
	var authGen authtypes.GenesisState
	cfg.Codec.MustUnmarshalJSON(cfg.GenesisState[authtypes.ModuleName], &authGen)
	packed, err := authtypes.PackAccounts(accs)
	if err != nil {
		t.Fatal(err)
	}
	authGen.Accounts = append(authGen.Accounts, packed...)
	cfg.GenesisState[authtypes.ModuleName] = cfg.Codec.MustMarshalJSON(&authGen)

	var bankGen banktypes.GenesisState
	cfg.Codec.MustUnmarshalJSON(cfg.GenesisState[banktypes.ModuleName], &bankGen)
	bankGen.Balances = append(bankGen.Balances, bals...)
	cfg.GenesisState[banktypes.ModuleName] = cfg.Codec.MustMarshalJSON(&bankGen)
}

// freeAddr returns a free loopback TCP address.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}

// Anchor returns a trust anchor for the network: its header at height 1,
// read from validator 0 (the test trusts the validator it started).
func (n *Network) Anchor(t testing.TB) verify.Anchor {
	t.Helper()
	rpc, err := rpchttp.New(n.RPC, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	h := int64(1)
	res, err := rpc.Commit(context.Background(), &h)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Anchor{ChainID: n.ChainID, Height: h, Hash: res.Hash(), TrustingPeriod: verify.DefaultTrustingPeriod}
}

// Verified returns a chain client paying with the named test account that
// proves what it reads against a light client anchored at Anchor. nodes
// replaces the node list (e.g. with a verifytest.Liar in front).
func (n *Network) Verified(t testing.TB, from string, nodes ...string) *verify.Client {
	t.Helper()
	if len(nodes) == 0 {
		nodes = []string{n.RPC}
	}
	return n.VerifiedWith(t, chain.Config{Nodes: nodes, KeyringDir: n.KeyringDir, KeyringBackend: keyring.BackendTest, From: from})
}

// VerifiedWith is Verified with a chain configuration of the test's own
// (a device account key, a fee granter, fees); the chain ID is set here,
// and the node list defaults to validator 0.
func (n *Network) VerifiedWith(t testing.TB, cc chain.Config) *verify.Client {
	t.Helper()
	if cc.Node == "" && len(cc.Nodes) == 0 {
		cc.Nodes = []string{n.RPC}
	}
	cc.ChainID = n.ChainID
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := verify.Open(ctx, verify.Config{
		Chain: cc,
		State: verify.State{Anchor: n.Anchor(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
