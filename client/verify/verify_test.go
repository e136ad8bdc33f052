package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/app"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/client/verify/verifytest"
	"github.com/parleynet/parley/internal/nettest"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

type edSigner struct{ priv ed25519.PrivateKey }

func newSigner(t *testing.T) edSigner {
	_, priv, err := edKey()
	require.NoError(t, err)
	return edSigner{priv}
}

func edKey() (ed25519.PublicKey, ed25519.PrivateKey, error) { return ed25519.GenerateKey(rand.Reader) }

func (s edSigner) SignMessage(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }
func (s edSigner) PublicKey() ed25519.PublicKey  { return s.priv.Public().(ed25519.PublicKey) }

// notices collects what a client reports.
type notices struct {
	mu   sync.Mutex
	msgs []string
}

func (n *notices) add(s string) { n.mu.Lock(); n.msgs = append(n.msgs, s); n.mu.Unlock() }

// open makes a verified client over nodes with its own failover log.
func open(t *testing.T, net *nettest.Network, from string, cfg func(*verify.Config), nodes ...string) (*verify.Client, *[]string) {
	t.Helper()
	var (
		mu        sync.Mutex
		failovers []string
	)
	c := verify.Config{
		Chain: chain.Config{Nodes: nodes, ChainID: net.ChainID, KeyringDir: net.KeyringDir, KeyringBackend: "test", From: from,
			OnFailover: func(from, to string, err error) {
				mu.Lock()
				failovers = append(failovers, from+" -> "+to+": "+err.Error())
				mu.Unlock()
			}},
		State: verify.State{Anchor: net.Anchor(t)},
	}
	if cfg != nil {
		cfg(&c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vc, err := verify.Open(ctx, c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = vc.Close() })
	return vc, &failovers
}

// TestProvenReadsCatchLyingNodes runs a real chain with a lying proxy in
// front of its node: every kind of lie about state, heights and
// transaction results is caught, named, and survived by failing over to
// the honest node; with only the liar, the read fails.
func TestProvenReadsCatchLyingNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	honest, _ := open(t, net, "alice", nil, net.RPC)
	bobKey := newSigner(t)
	_, err := identity.Register(ctx, honest, "bob", "phone", bobKey)
	require.NoError(t, err)

	snap, err := honest.Reader().Latest(ctx)
	require.NoError(t, err)
	require.True(t, snap.Proven())
	dev, err := snap.Device(ctx, "bob", "phone")
	require.NoError(t, err)
	require.Equal(t, []byte(bobKey.PublicKey()), dev.Pubkey)
	_, err = snap.Device(ctx, "bob", "laptop")
	require.ErrorIs(t, err, verify.ErrNotFound, "an absent device is proven absent")
	user, entries, err := snap.History(ctx, "bob")
	require.NoError(t, err)
	require.Equal(t, uint64(len(entries)), user.Seq)

	devKey, err := identitytypes.DeviceStoreKey("bob", "phone")
	require.NoError(t, err)
	mallory := newSigner(t)

	cases := []struct {
		name string
		lie  func(l *verifytest.Liar)
	}{
		{"substituted device key", func(l *verifytest.Liar) {
			l.Lie("key", func(c *verifytest.Call) bool {
				if !c.IsStoreQuery(identitytypes.StoreKey, devKey) {
					return false
				}
				var d identitytypes.Device
				if d.Unmarshal(c.QueryValue()) != nil {
					return false
				}
				d.Pubkey = mallory.PublicKey()
				bz, _ := d.Marshal()
				c.SetQueryValue(bz)
				return true
			})
		}},
		{"no proof", func(l *verifytest.Liar) {
			l.Lie("key", func(c *verifytest.Call) bool {
				if !c.IsStoreQuery(identitytypes.StoreKey, devKey) {
					return false
				}
				c.DropProof()
				return true
			})
		}},
		{"device hidden", func(l *verifytest.Liar) {
			l.Lie("key", func(c *verifytest.Call) bool {
				if !c.IsStoreQuery(identitytypes.StoreKey, devKey) {
					return false
				}
				c.SetQueryValue(nil)
				return true
			})
		}},
		{"older height", func(l *verifytest.Liar) {
			l.LieAsked("key", func(c *verifytest.Call) bool {
				if !c.IsStoreQuery(identitytypes.StoreKey, devKey) {
					return false
				}
				c.Params["height"] = "2"
				return true
			})
		}},
		{"another key's proof", func(l *verifytest.Liar) {
			other, _ := identitytypes.DeviceStoreKey("bob", "phonf")
			l.LieAsked("key", func(c *verifytest.Call) bool {
				if !c.IsStoreQuery(identitytypes.StoreKey, devKey) {
					return false
				}
				c.Params["data"] = hex.EncodeToString(other)
				return true
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			liar := verifytest.NewLiar(t, net.RPC)
			tc.lie(liar)

			only, _ := open(t, net, "alice", nil, liar.Addr)
			snap, err := only.Reader().Latest(ctx)
			require.NoError(t, err)
			_, err = snap.Device(ctx, "bob", "phone")
			require.Positive(t, liar.Told("key"), "the lie was told")
			require.ErrorIs(t, err, chain.ErrBadAnswer, "a client whose only node lies refuses")
			var le *verify.LieError
			require.ErrorAs(t, err, &le)
			require.Equal(t, liar.Addr, le.Node, "the error names the lying node")

			both, failovers := open(t, net, "alice", nil, liar.Addr, net.RPC)
			snap, err = both.Reader().Latest(ctx)
			require.NoError(t, err)
			d, err := snap.Device(ctx, "bob", "phone")
			require.NoError(t, err, "the honest node answers after the failover")
			require.Equal(t, []byte(bobKey.PublicKey()), d.Pubkey)
			require.NotEmpty(t, *failovers, "the failover was reported")
			require.Contains(t, (*failovers)[0], liar.Addr)
		})
	}

	t.Run("tx result", func(t *testing.T) {
		liar := verifytest.NewLiar(t, net.RPC)
		// The node says a failing transaction succeeded (and the other
		// way round): both are caught by the proven result.
		liar.Lie("code", func(c *verifytest.Call) bool {
			if c.Method != "tx" {
				return false
			}
			res, _ := c.Result["tx_result"].(map[string]any)
			if res == nil {
				return false
			}
			if c.Int(res, "code") == 0 {
				res["code"] = 5
			} else {
				res["code"] = 0
			}
			return true
		})
		only, _ := open(t, net, "alice", nil, liar.Addr)
		send := &banktypes.MsgSend{FromAddress: only.Account(), ToAddress: only.Account(),
			Amount: sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1)))}
		_, _, err := only.BroadcastProven(ctx, send)
		require.Positive(t, liar.Told("code"))
		require.ErrorIs(t, err, chain.ErrBadAnswer)

		good, _ := open(t, net, "alice", nil, net.RPC)
		_, out, err := good.BroadcastProven(ctx, send)
		require.NoError(t, err)
		require.Zero(t, out.Code)
		require.Positive(t, out.Height)
	})

	t.Run("wrong anchor", func(t *testing.T) {
		a := net.Anchor(t)
		a.Hash[0] ^= 1
		_, err := verify.Open(ctx, verify.Config{Chain: chain.Config{Nodes: []string{net.RPC}, ChainID: net.ChainID}, State: verify.State{Anchor: a}})
		require.Error(t, err)
		require.Contains(t, err.Error(), "anchor")
	})

	t.Run("expired anchor", func(t *testing.T) {
		c, _ := open(t, net, "alice", nil, net.RPC)
		lb := c.Headers().Trusted()
		require.NotNil(t, lb)
		_, err := verify.Open(ctx, verify.Config{Chain: chain.Config{Nodes: []string{net.RPC}, ChainID: net.ChainID},
			State: verify.State{Anchor: net.Anchor(t), Latest: lb}, Now: func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }})
		require.ErrorIs(t, err, verify.ErrAnchorExpired)
	})

	// --insecure-trust-node: nothing is proven, and a tentative snapshot
	// has nothing left to confirm (a leader's commit must still go on).
	t.Run("verification off", func(t *testing.T) {
		c, _ := open(t, net, "alice", func(c *verify.Config) { c.Unverified, c.State = true, verify.State{} }, net.RPC)
		snap, err := c.Reader().Tip(ctx)
		require.NoError(t, err)
		require.False(t, snap.Proven())
		require.NoError(t, snap.Confirm(ctx))
		_, err = c.Reader().Tx(ctx, make([]byte, 32))
		require.ErrorIs(t, err, verify.ErrUnverified)
	})
	_ = errors.New
}
