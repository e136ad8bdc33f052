package chain_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/internal/nettest"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// move is one OnFailover call.
type move struct{ from, to string }

// watched is a client and the failovers it reported.
type watched struct {
	*chain.Client
	mu    sync.Mutex
	moves []move
}

func (w *watched) failovers() []move {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]move(nil), w.moves...)
}

// newClient makes a client whose halt detection is generous: blocks on a
// loaded 2-core machine running the whole suite can take seconds.
func newClient(t *testing.T, net *nettest.Network, from string, nodes ...string) *watched {
	return newClientHalt(t, net, from, 20*time.Second, nodes...)
}

// newClientHalt makes a client that calls the chain halted after haltAfter
// without a block: short for the tests of a halt.
func newClientHalt(t *testing.T, net *nettest.Network, from string, haltAfter time.Duration, nodes ...string) *watched {
	t.Helper()
	w := &watched{}
	c, err := chain.New(chain.Config{
		Nodes: nodes, ChainID: net.ChainID, KeyringDir: net.KeyringDir, KeyringBackend: keyring.BackendTest, From: from,
		AttemptTimeout: 500 * time.Millisecond, HaltAfter: haltAfter, CommitTimeout: 30 * time.Second,
		OnFailover: func(from, to string, err error) {
			require.Error(t, err)
			w.mu.Lock()
			defer w.mu.Unlock()
			w.moves = append(w.moves, move{from, to})
		},
	})
	require.NoError(t, err)
	w.Client = c
	return w
}

// registerMsg claims a fresh user name for c's account.
func registerMsg(t *testing.T, c *watched, user string) sdk.Msg {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return &identitytypes.MsgRegisterUser{
		Owner: c.Account(), UserId: user, DeviceId: "d1", Pubkey: pub,
		PopSig: ed25519.Sign(priv, identitytypes.RegisterSignBytes(c.ChainID(), c.Account(), user, "d1", pub)),
	}
}

// sequence is c's account sequence as committed.
func sequence(ctx context.Context, t *testing.T, c *watched) uint64 {
	t.Helper()
	res, err := authtypes.NewQueryClient(c.QueryConn()).Account(ctx, &authtypes.QueryAccountRequest{Address: c.Account()})
	require.NoError(t, err)
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	var acc sdk.AccountI
	require.NoError(t, enc.Registry.UnpackAny(res.Account, &acc))
	return acc.GetSequence()
}

func requireUser(ctx context.Context, t *testing.T, c *watched, user string) {
	t.Helper()
	u, err := c.Identity().User(ctx, &identitytypes.QueryUserRequest{UserId: user})
	require.NoError(t, err)
	require.Equal(t, c.Account(), u.User.Owner)
}

// TestFailoverOnChain runs a client against a real in-process chain
// through loopback proxies that the test makes fail: nodes that are dead
// from the start, go away mid-use, lose the answer to a broadcast, stop
// answering, or stop making blocks.
func TestFailoverOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("DeadFirstNode", func(t *testing.T) {
		dead := deadAddr(t)
		c := newClient(t, net, "alice", dead, net.RPC)

		h, err := c.Height(ctx)
		require.NoError(t, err)
		require.Positive(t, h)
		require.Equal(t, net.RPC, c.Node())
		require.Equal(t, []move{{dead, net.RPC}}, c.failovers())

		// The chain's own answer is not a reason to move.
		_, err = c.Identity().User(ctx, &identitytypes.QueryUserRequest{UserId: "nobody"})
		require.Equal(t, codes.NotFound, status.Code(err), "%v", err)

		res, err := c.Broadcast(ctx, registerMsg(t, c, "alice"))
		require.NoError(t, err)
		require.Zero(t, res.Code)
		requireUser(ctx, t, c, "alice")

		st, err := c.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, net.RPC, st.Node)
		require.GreaterOrEqual(t, st.Height, h)
		require.False(t, st.Halted)
		require.Equal(t, []move{{dead, net.RPC}}, c.failovers())
		require.Equal(t, net.RPC, c.Node())
	})

	t.Run("NodeGoesAway", func(t *testing.T) {
		a, b := newProxy(t, net.RPC), newProxy(t, net.RPC)
		c := newClient(t, net, "bob", a.Addr, b.Addr)
		seq := sequence(ctx, t, c)

		_, err := c.Broadcast(ctx, registerMsg(t, c, "bob"))
		require.NoError(t, err)
		require.Equal(t, a.Addr, c.Node())
		require.Empty(t, c.failovers())

		a.Close()
		requireUser(ctx, t, c, "bob")
		require.Equal(t, b.Addr, c.Node())
		require.Equal(t, []move{{a.Addr, b.Addr}}, c.failovers())

		_, err = c.Broadcast(ctx, registerMsg(t, c, "bob2"))
		require.NoError(t, err)
		requireUser(ctx, t, c, "bob2")
		require.Equal(t, seq+2, sequence(ctx, t, c))
	})

	t.Run("BroadcastAnswerLost", func(t *testing.T) {
		// The first node passes the transaction on, then drops the
		// connection: the client must find it on the next node, not sign
		// a second one.
		a, b := newProxy(t, net.RPC), newProxy(t, net.RPC)
		a.set(func(m string) action {
			if m == "broadcast_tx_sync" {
				return cut
			}
			return forward
		})
		c := newClient(t, net, "carol", a.Addr, b.Addr)
		seq := sequence(ctx, t, c)

		res, err := c.Broadcast(ctx, registerMsg(t, c, "carol"))
		require.NoError(t, err)
		require.Zero(t, res.Code)
		require.Equal(t, []move{{a.Addr, b.Addr}}, c.failovers())
		require.Equal(t, seq+1, sequence(ctx, t, c))

		st, err := c.TxStatus(ctx, res.TxHash)
		require.NoError(t, err)
		require.Equal(t, chain.TxCommitted, st.State)

		_, err = c.Broadcast(ctx, registerMsg(t, c, "carol2"))
		require.NoError(t, err)
		require.Equal(t, seq+2, sequence(ctx, t, c))
	})

	t.Run("ChainHalted", func(t *testing.T) {
		// After the transaction reaches it, the node keeps answering but
		// its chain no longer moves.
		p := newProxy(t, net.RPC)
		p.set(then("broadcast_tx_sync", frozen))
		c := newClientHalt(t, net, "dave", 1500*time.Millisecond, p.Addr)

		_, err := c.Broadcast(ctx, registerMsg(t, c, "dave"))
		var pending *chain.PendingTxError
		require.ErrorAs(t, err, &pending)
		require.ErrorIs(t, err, chain.ErrChainHalted)
		require.NotErrorIs(t, err, chain.ErrUnreachable)
		require.Len(t, pending.Hash, 64)
		require.Contains(t, err.Error(), pending.Hash)
		t.Log(err)

		st, err := c.Status(ctx)
		require.NoError(t, err)
		require.True(t, st.Halted)

		p.set(func(string) action { return forward })
		tx, err := c.TxStatus(ctx, pending.Hash)
		require.NoError(t, err)
		require.Equal(t, chain.TxCommitted, tx.State)
		require.Zero(t, tx.Response.Code)
		require.NoError(t, tx.Err)
		requireUser(ctx, t, c, "dave")
	})

	t.Run("NoNodeAnswers", func(t *testing.T) {
		p := newProxy(t, net.RPC)
		p.set(then("broadcast_tx_sync", silent))
		c := newClientHalt(t, net, "alice", 1500*time.Millisecond, p.Addr)

		_, err := c.Broadcast(ctx, registerMsg(t, c, "alice2"))
		var pending *chain.PendingTxError
		require.ErrorAs(t, err, &pending)
		require.ErrorIs(t, err, chain.ErrChainHalted)
		require.ErrorIs(t, err, chain.ErrUnreachable)
		t.Log(err)

		p.set(func(string) action { return forward })
		tx, err := c.TxStatus(ctx, pending.Hash)
		require.NoError(t, err)
		require.Equal(t, chain.TxCommitted, tx.State)
		requireUser(ctx, t, c, "alice2")
	})

	t.Run("NeverDelivered", func(t *testing.T) {
		// No node ever gets the transaction; when one answers again the
		// same signed bytes are sent, and committed once.
		p := newProxy(t, net.RPC)
		p.set(func(m string) action {
			if m == "broadcast_tx_sync" {
				return silent
			}
			return forward
		})
		c := newClientHalt(t, net, "bob", 1500*time.Millisecond, p.Addr)
		seq := sequence(ctx, t, c)

		_, err := c.Broadcast(ctx, registerMsg(t, c, "bob3"))
		var pending *chain.PendingTxError
		require.ErrorAs(t, err, &pending)
		require.ErrorIs(t, err, chain.ErrChainHalted)

		p.set(func(string) action { return forward })
		tx, err := c.TxStatus(ctx, pending.Hash)
		require.NoError(t, err)
		require.Contains(t, []chain.TxState{chain.TxPending, chain.TxCommitted}, tx.State)
		res, err := c.WaitTx(ctx, pending.Hash)
		require.NoError(t, err)
		require.Zero(t, res.Code)
		requireUser(ctx, t, c, "bob3")
		require.Equal(t, seq+1, sequence(ctx, t, c))
	})

	t.Run("AllNodesDead", func(t *testing.T) {
		c := newClient(t, net, "carol", deadAddr(t), deadAddr(t))
		_, err := c.Height(ctx)
		require.ErrorIs(t, err, chain.ErrUnreachable)
		// Nothing could be signed against the chain, so nothing is pending.
		_, err = c.Broadcast(ctx, registerMsg(t, c, "carol3"))
		require.ErrorIs(t, err, chain.ErrUnreachable)
		var pending *chain.PendingTxError
		require.NotErrorAs(t, err, &pending)
		t.Log(err)
	})

	t.Run("Rejected", func(t *testing.T) {
		c := newClient(t, net, "carol", net.RPC)
		_, err := c.Broadcast(ctx, registerMsg(t, c, "alice"))
		require.ErrorIs(t, err, chain.ErrTxFailed)
		require.Contains(t, err.Error(), "already registered")
	})

	t.Run("UnknownHash", func(t *testing.T) {
		c := newClient(t, net, "carol", net.RPC)
		h := make([]byte, 32)
		_, err := rand.Read(h)
		require.NoError(t, err)
		tx, err := c.TxStatus(ctx, hex.EncodeToString(h))
		require.NoError(t, err)
		require.Equal(t, chain.TxUnknown, tx.State)

		_, err = c.TxStatus(ctx, "not-a-hash")
		require.Error(t, err)
	})
}
