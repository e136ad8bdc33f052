package chain

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/client"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	gogogrpc "github.com/cosmos/gogoproto/grpc"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Config says which nodes and account a client uses.
type Config struct {
	// Node is a CometBFT RPC address, e.g. tcp://127.0.0.1:26657, or a
	// comma-separated list of them (so PARLEY_NODE can name several).
	Node string
	// Nodes are more RPC addresses, tried after those in Node, in order.
	Nodes []string
	// ChainID is the chain's ID; every device signature covers it.
	ChainID string
	// KeyringDir and KeyringBackend locate the Cosmos keyring (as parleyd's
	// --keyring-dir and --keyring-backend).
	KeyringDir     string
	KeyringBackend string
	// From is the keyring account that signs and pays for transactions.
	From string
	// AccountKey, instead of From, is an account key held in memory: the
	// key a device derives from its device key (keystore.DeviceKey's
	// AccountKey), so a device needs no keyring. Setting both is an error.
	AccountKey cryptotypes.PrivKey
	// FeeGranter is the bech32 address of an account that pays this
	// client's fees through an x/feegrant allowance, so an account that
	// holds no tokens can transact ("" for none: the account pays).
	FeeGranter string
	// Fees paid per transaction (e.g. "0uparley"); empty means none.
	Fees string
	// GasAdjustment scales simulated gas; 0 means 1.5.
	GasAdjustment float64
	// CommitTimeout bounds the wait for a transaction's block; 0 means 30 s.
	CommitTimeout time.Duration
	// AttemptTimeout bounds one request to one node, so that a node that
	// accepts connections but does not answer is left quickly; 0 means 3 s.
	AttemptTimeout time.Duration
	// HaltAfter is how long no new block may be seen while waiting for a
	// transaction before the chain is reported halted; 0 means 15 s.
	HaltAfter time.Duration
	// OnFailover, if set, is called (synchronously, so it must not block)
	// when the client leaves node from for node to because of err.
	OnFailover func(from, to string, err error)
}

// Client talks to one node at a time of those configured, moving to the
// next when the current one stops answering.
type Client struct {
	cfg  Config
	enc  Encoding
	from sdk.AccAddress
	// granter pays the fees through a fee grant (nil: from pays).
	granter sdk.AccAddress
	nodes   []*node

	mu  sync.Mutex
	cur int // index into nodes of the node in use

	// signMu serialises signing and first submission, so that concurrent
	// Broadcasts take consecutive sequences instead of the same one.
	signMu sync.Mutex
	seq    seqHint

	pendMu  sync.Mutex
	pending map[string]*signedTx // txs signed here and not yet settled, by hash
	saidBy  map[string]string    // the node that reported each recent tx's block, by hash (SaidBy)
}

// New prepares a client for the nodes named in cfg (lazily: nothing is
// sent yet).
func New(cfg Config) (*Client, error) {
	addrs := nodeList(cfg)
	if len(addrs) == 0 {
		return nil, errors.New("chain: no node address (set --node or PARLEY_NODE)")
	}
	if cfg.ChainID == "" {
		return nil, errors.New("chain: no chain ID (set --chain-id or PARLEY_CHAIN_ID)")
	}
	if cfg.GasAdjustment == 0 {
		cfg.GasAdjustment = 1.5
	}
	if cfg.CommitTimeout == 0 {
		cfg.CommitTimeout = 30 * time.Second
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 3 * time.Second
	}
	if cfg.HaltAfter == 0 {
		cfg.HaltAfter = 15 * time.Second
	}
	enc, err := NewEncoding()
	if err != nil {
		return nil, err
	}
	base := client.Context{}.
		WithCodec(enc.Codec).
		WithInterfaceRegistry(enc.Registry).
		WithTxConfig(enc.TxConfig).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithChainID(cfg.ChainID).
		WithBroadcastMode("sync").
		WithOutput(os.Stderr)
	var from sdk.AccAddress
	if cfg.From != "" || cfg.AccountKey != nil {
		kr, rec, err := openKeyring(cfg, enc)
		if err != nil {
			return nil, err
		}
		from, err = rec.GetAddress()
		if err != nil {
			return nil, err
		}
		base = base.WithKeyring(kr).WithFromName(rec.Name).WithFromAddress(from).WithFrom(rec.Name)
	}
	var granter sdk.AccAddress
	if cfg.FeeGranter != "" {
		if granter, err = sdk.AccAddressFromBech32(cfg.FeeGranter); err != nil {
			return nil, fmt.Errorf("chain: fee granter %q is not an account address: %w", cfg.FeeGranter, err)
		}
	}
	c := &Client{cfg: cfg, enc: enc, from: from, granter: granter, pending: map[string]*signedTx{}}
	for _, addr := range addrs {
		n, err := newNode(base, addr)
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// nodeList gathers the addresses of Node and Nodes, in order, without
// blanks or repeats.
func nodeList(cfg Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append(strings.Split(cfg.Node, ","), cfg.Nodes...) {
		a = strings.TrimSpace(a)
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// ChainID returns the chain ID device signatures must cover.
func (c *Client) ChainID() string { return c.cfg.ChainID }

// Account returns the bech32 address of the paying account ("" if none).
func (c *Client) Account() string {
	if c.from == nil {
		return ""
	}
	return c.from.String()
}

// Identity returns a query client for x/identity that fails over.
func (c *Client) Identity() identitytypes.QueryClient {
	return identitytypes.NewQueryClient(c.QueryConn())
}

// Meeting returns a query client for x/meeting that fails over.
func (c *Client) Meeting() meetingtypes.QueryClient {
	return meetingtypes.NewQueryClient(c.QueryConn())
}

// QueryConn returns a gRPC connection over the nodes' ABCI query path that
// moves to the next node when one stops answering, for other modules'
// query clients.
func (c *Client) QueryConn() gogogrpc.ClientConn { return queryConn{c} }

// Conn returns the SDK client context of the node in use. Calls made
// through it stay on that node; prefer QueryConn, which fails over.
func (c *Client) Conn() client.Context { return c.current().ctx }
