package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/privval"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/client/verify/verifytest"
	"github.com/parleynet/parley/internal/nettest"
)

// forgeCommit returns /commit's result for height h with a header whose
// app hash is changed, signed again by the validator's own key: what a
// validator that equivocates (or whose key was stolen) can serve.
func forgeCommit(t *testing.T, net *nettest.Network, h int64) map[string]any {
	t.Helper()
	cfg := net.Validators[0].GetCtx().Config
	pv := privval.LoadFilePVEmptyState(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	rpc, err := rpchttp.New(net.RPC, "/websocket")
	require.NoError(t, err)
	real, err := rpc.Commit(context.Background(), &h)
	require.NoError(t, err)
	hdr := *real.Header
	hdr.AppHash = bytes.Repeat([]byte{0xAA}, 32)
	commit := real.Commit.Clone()
	commit.BlockID.Hash = hdr.Hash()
	for i, sig := range commit.Signatures {
		if sig.BlockIDFlag != types.BlockIDFlagCommit {
			continue
		}
		sb := types.VoteSignBytes(net.ChainID, commit.GetVote(int32(i)).ToProto())
		sig.Signature, err = pv.Key.PrivKey.Sign(sb)
		require.NoError(t, err)
		commit.Signatures[i] = sig
	}
	bz, err := cmtjson.Marshal(ctypes.NewResultCommit(&hdr, commit, true))
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(bz, &out))
	return out
}

func heightParam(c *verifytest.Call) int64 {
	return c.Int(c.Params, "height")
}

// TestLightClientCatchesConflictAndStaleNodes: a node that serves a
// header its validator signed twice (a fork) is reported as a possible
// attack and neither it nor the node that disagrees is used again; a node
// that withholds new blocks is left for one that has them.
func TestLightClientCatchesConflictAndStaleNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rpc, err := rpchttp.New(net.RPC, "/websocket")
	require.NoError(t, err)
	status := func() int64 {
		st, err := rpc.Status(ctx)
		require.NoError(t, err)
		return st.SyncInfo.LatestBlockHeight
	}

	t.Run("conflicting headers", func(t *testing.T) {
		var (
			mu      sync.Mutex
			notices []string
		)
		liar := verifytest.NewLiar(t, net.RPC)
		h, err := verify.NewHeaders(ctx, verify.HeadersConfig{
			ChainID: net.ChainID, Nodes: []string{liar.Addr, net.RPC}, State: verify.State{Anchor: net.Anchor(t)},
			OnNotice: func(s string) { mu.Lock(); notices = append(notices, s); mu.Unlock() },
		})
		require.NoError(t, err)
		fork := status() + 1
		waitHeight(t, ctx, status, fork+1)
		forged := forgeCommit(t, net, fork)
		liar.Lie("fork", func(c *verifytest.Call) bool {
			if c.Method != "commit" || heightParam(c) != fork {
				return false
			}
			c.Result = forged
			return true
		})
		_, err = h.At(ctx, fork)
		require.Positive(t, liar.Told("fork"), "the forged header was served")
		require.ErrorIs(t, err, verify.ErrAttack)
		require.Contains(t, err.Error(), liar.Addr)
		require.Contains(t, err.Error(), net.RPC)
		require.Empty(t, h.Nodes(), "neither node is used again")
		_, err = h.Latest(ctx)
		require.ErrorIs(t, err, verify.ErrNoNodes)
		mu.Lock()
		require.True(t, len(notices) > 0 && strings.Contains(notices[len(notices)-1], "possible attack"), "reported: %v", notices)
		mu.Unlock()
	})

	t.Run("node withholding blocks", func(t *testing.T) {
		var (
			mu      sync.Mutex
			notices []string
		)
		liar := verifytest.NewLiar(t, net.RPC)
		frozen := status()
		frozenTime := time.Now()
		// The liar stops at height frozen: its status and its newest
		// commit stay there while the chain goes on.
		liar.LieAsked("old", func(c *verifytest.Call) bool {
			if c.Method != "commit" || heightParam(c) != 0 {
				return false
			}
			c.Params["height"] = fmt.Sprint(frozen)
			return true
		})
		liar.Lie("old", func(c *verifytest.Call) bool {
			if c.Method != "status" {
				return false
			}
			si, _ := c.Result["sync_info"].(map[string]any)
			si["latest_block_height"] = fmt.Sprint(frozen)
			si["latest_block_time"] = frozenTime.UTC().Format(time.RFC3339Nano)
			return true
		})
		h, err := verify.NewHeaders(ctx, verify.HeadersConfig{
			ChainID: net.ChainID, Nodes: []string{liar.Addr, net.RPC}, State: verify.State{Anchor: net.Anchor(t)},
			MaxHeaderAge: time.Second,
			OnNotice:     func(s string) { mu.Lock(); notices = append(notices, s); mu.Unlock() },
		})
		require.NoError(t, err)
		waitHeight(t, ctx, status, frozen+10) // 2 s of blocks
		lb, err := h.Latest(ctx)
		require.NoError(t, err)
		require.Positive(t, liar.Told("old"))
		require.Greater(t, lb.Height, frozen+5, "the newest header comes from the node that has it")
		require.Equal(t, net.RPC, h.Nodes()[0], "the withholding node is no longer primary")
		mu.Lock()
		require.True(t, len(notices) > 0 && strings.Contains(notices[0], "serves old blocks"), "reported: %v", notices)
		mu.Unlock()
	})
}

func waitHeight(t *testing.T, ctx context.Context, status func() int64, h int64) {
	t.Helper()
	for status() < h {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
