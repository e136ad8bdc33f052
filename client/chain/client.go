package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Config says which node and account a client uses.
type Config struct {
	// Node is the CometBFT RPC address, e.g. tcp://127.0.0.1:26657.
	Node string
	// ChainID is the chain's ID; every device signature covers it.
	ChainID string
	// KeyringDir and KeyringBackend locate the Cosmos keyring (as parleyd's
	// --keyring-dir and --keyring-backend).
	KeyringDir     string
	KeyringBackend string
	// From is the keyring account that signs and pays for transactions.
	From string
	// Fees paid per transaction (e.g. "0uparley"); empty means none.
	Fees string
	// GasAdjustment scales simulated gas; 0 means 1.5.
	GasAdjustment float64
	// CommitTimeout bounds the wait for a transaction's block; 0 means 30 s.
	CommitTimeout time.Duration
}

// Client talks to one node.
type Client struct {
	cfg Config
	enc Encoding
	ctx client.Context
}

// New connects to the node named in cfg (lazily: nothing is sent yet).
func New(cfg Config) (*Client, error) {
	if cfg.Node == "" {
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
	enc, err := NewEncoding()
	if err != nil {
		return nil, err
	}
	rpc, err := client.NewClientFromNode(cfg.Node)
	if err != nil {
		return nil, fmt.Errorf("chain: node %s: %w", cfg.Node, err)
	}
	cctx := client.Context{}.
		WithCodec(enc.Codec).
		WithInterfaceRegistry(enc.Registry).
		WithTxConfig(enc.TxConfig).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithChainID(cfg.ChainID).
		WithNodeURI(cfg.Node).
		WithClient(rpc).
		WithBroadcastMode("sync").
		WithOutput(os.Stderr)
	if cfg.From != "" {
		backend := cfg.KeyringBackend
		if backend == "" {
			backend = keyring.BackendOS
		}
		kr, err := keyring.New(sdk.KeyringServiceName(), backend, cfg.KeyringDir, os.Stdin, enc.Codec)
		if err != nil {
			return nil, fmt.Errorf("chain: keyring (%s in %s): %w", backend, cfg.KeyringDir, err)
		}
		rec, err := kr.Key(cfg.From)
		if err != nil {
			return nil, fmt.Errorf("chain: account %q not in the %s keyring at %s: %w", cfg.From, backend, cfg.KeyringDir, err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			return nil, err
		}
		cctx = cctx.WithKeyring(kr).WithFromName(rec.Name).WithFromAddress(addr).WithFrom(rec.Name)
	}
	return &Client{cfg: cfg, enc: enc, ctx: cctx}, nil
}

// ChainID returns the chain ID device signatures must cover.
func (c *Client) ChainID() string { return c.cfg.ChainID }

// Account returns the bech32 address of the paying account ("" if none).
func (c *Client) Account() string {
	if c.ctx.FromAddress == nil {
		return ""
	}
	return c.ctx.FromAddress.String()
}

// Identity returns a query client for x/identity.
func (c *Client) Identity() identitytypes.QueryClient { return identitytypes.NewQueryClient(c.ctx) }

// Meeting returns a query client for x/meeting.
func (c *Client) Meeting() meetingtypes.QueryClient { return meetingtypes.NewQueryClient(c.ctx) }

// Conn returns the gRPC connection over the node's ABCI query path, for
// other modules' query clients.
func (c *Client) Conn() client.Context { return c.ctx }

// Height returns the latest block height.
func (c *Client) Height(ctx context.Context) (int64, error) {
	st, err := c.ctx.Client.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrUnreachable, c.cfg.Node, err)
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

// Broadcast signs msgs with the configured account, broadcasts them and
// waits until they are in a block. A transaction the chain rejects comes
// back as ErrTxFailed wrapping the chain's message.
func (c *Client) Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	if c.ctx.FromAddress == nil {
		return nil, errors.New("chain: no paying account (set --from)")
	}
	txf := tx.Factory{}.
		WithTxConfig(c.enc.TxConfig).
		WithAccountRetriever(c.ctx.AccountRetriever).
		WithKeybase(c.ctx.Keyring).
		WithChainID(c.cfg.ChainID).
		WithGasAdjustment(c.cfg.GasAdjustment).
		WithFromName(c.ctx.FromName).
		WithSimulateAndExecute(true)
	if c.cfg.Fees != "" {
		txf = txf.WithFees(c.cfg.Fees)
	}
	txf, err := txf.Prepare(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: account %s: %v", ErrUnreachable, c.Account(), err)
	}
	_, gas, err := tx.CalculateGas(c.ctx, txf, msgs...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrTxFailed, chainMessage(err))
	}
	txf = txf.WithGas(gas)
	builder, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(ctx, txf, c.ctx.FromName, builder, true); err != nil {
		return nil, fmt.Errorf("chain: signing with %s: %w", c.ctx.FromName, err)
	}
	bz, err := c.enc.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return nil, err
	}
	res, err := c.ctx.BroadcastTxSync(bz)
	if err != nil {
		return nil, fmt.Errorf("%w: broadcast: %v", ErrUnreachable, err)
	}
	if res.Code != 0 {
		return res, fmt.Errorf("%w: %s", ErrTxFailed, chainMessage(errors.New(res.RawLog)))
	}
	return c.WaitTx(ctx, res.TxHash)
}

// WaitTx waits until the transaction with the given hash is in a block.
func (c *Client) WaitTx(ctx context.Context, hash string) (*sdk.TxResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommitTimeout)
	defer cancel()
	raw, err := hex.DecodeString(hash)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if r, err := c.ctx.Client.Tx(ctx, raw, false); err == nil {
			res, err := authtx.QueryTx(c.ctx, hash)
			if err != nil {
				return nil, err
			}
			if r.TxResult.Code != 0 {
				return res, fmt.Errorf("%w: %s", ErrTxFailed, chainMessage(errors.New(r.TxResult.Log)))
			}
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s after %s", ErrTxTimeout, hash, c.cfg.CommitTimeout)
		case <-tick.C:
		}
	}
}

// Noise the SDK wraps around a module's error message.
var (
	grpcPrefix  = regexp.MustCompile(`^(rpc error: code = \w+ desc = )+`)
	execPrefix  = regexp.MustCompile(`failed to execute message; message index: \d+: `)
	sourceTrace = regexp.MustCompile(` \[[^\]]*\.go:\d+\]`)
	gasSuffix   = regexp.MustCompile(` with gas used: '\d+'(: unknown request)?$`)
)

// chainMessage strips the gRPC and SDK wrapping from a chain error so the
// person sees the module's own message: which field, and why.
func chainMessage(err error) string {
	msg := grpcPrefix.ReplaceAllString(err.Error(), "")
	msg = execPrefix.ReplaceAllString(msg, "")
	msg = sourceTrace.ReplaceAllString(msg, "")
	return strings.TrimSpace(gasSuffix.ReplaceAllString(msg, ""))
}
