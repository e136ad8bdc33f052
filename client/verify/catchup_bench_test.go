package verify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	mockp "github.com/cometbft/cometbft/light/provider/mock"
	dbs "github.com/cometbft/cometbft/light/store/db"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
)

// genChain makes n signed headers of a chain of 4 equal validators, one of
// whom is replaced every `every` blocks (as validators come and go over
// weeks), one block a second ending now.
func genChain(chainID string, n, every int64) (map[int64]*types.SignedHeader, map[int64]*types.ValidatorSet) {
	keys := make([]ed25519.PrivKey, n/every+5)
	for i := range keys {
		keys[i] = ed25519.GenPrivKey()
	}
	valsAt := func(h int64) (*types.ValidatorSet, map[string]ed25519.PrivKey) {
		k := (h - 1) / every
		var vals []*types.Validator
		priv := map[string]ed25519.PrivKey{}
		for i := k; i < k+4; i++ {
			v := types.NewValidator(keys[i].PubKey(), 10)
			vals = append(vals, v)
			priv[string(v.Address)] = keys[i]
		}
		return types.NewValidatorSet(vals), priv
	}
	headers := make(map[int64]*types.SignedHeader, n)
	valsets := make(map[int64]*types.ValidatorSet, n+1)
	start := time.Now().Add(-time.Duration(n+10) * time.Second)
	var last types.BlockID
	filler := tmhash.Sum([]byte("parley"))
	for h := int64(1); h <= n; h++ {
		vals, priv := valsAt(h)
		next, _ := valsAt(h + 1)
		hdr := &types.Header{
			Version: cmtversion.Consensus{Block: version.BlockProtocol}, ChainID: chainID, Height: h,
			Time: start.Add(time.Duration(h) * time.Second), LastBlockID: last,
			LastCommitHash: filler, DataHash: filler, ValidatorsHash: vals.Hash(), NextValidatorsHash: next.Hash(),
			ConsensusHash: filler, AppHash: filler, LastResultsHash: filler, EvidenceHash: filler,
			ProposerAddress: vals.Validators[0].Address,
		}
		id := types.BlockID{Hash: hdr.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: filler}}
		commit := &types.Commit{Height: h, BlockID: id}
		for i, v := range vals.Validators {
			vote := &types.Vote{Type: cmtproto.PrecommitType, Height: h, BlockID: id, Timestamp: hdr.Time.Add(time.Millisecond),
				ValidatorAddress: v.Address, ValidatorIndex: int32(i)}
			sig, err := priv[string(v.Address)].Sign(types.VoteSignBytes(chainID, vote.ToProto()))
			if err != nil {
				panic(err)
			}
			commit.Signatures = append(commit.Signatures, types.CommitSig{BlockIDFlag: types.BlockIDFlagCommit,
				ValidatorAddress: v.Address, Timestamp: vote.Timestamp, Signature: sig})
		}
		headers[h] = &types.SignedHeader{Header: hdr, Commit: commit}
		valsets[h] = vals
		last = id
	}
	valsets[n+1], _ = valsAt(n + 1)
	return headers, valsets
}

// countingProvider counts the light blocks a light client fetches.
type countingProvider struct {
	provider.Provider
	n atomic.Int64
}

func (c *countingProvider) LightBlock(ctx context.Context, h int64) (*types.LightBlock, error) {
	c.n.Add(1)
	return c.Provider.LightBlock(ctx, h)
}

// BenchmarkLightCatchUp measures how much a client that was offline for a
// chain's worth of blocks pays to catch up from its newest trusted header
// (height 1) to the newest: with the client's skipping verification
// (bisection, trust level 1/3) and, for reference, sequential
// verification of every header. One validator of four is replaced every
// 2,000 blocks. The headers come from memory: this is the verification
// cost, without network round trips (each light block fetched costs two
// RPCs on a real node; the fetched count is reported).
func BenchmarkLightCatchUp(b *testing.B) {
	const chainID = "parley-bench"
	for _, n := range catchUpSizes {
		headers, vals := genChain(chainID, n, 2000)
		modes := []string{"skipping", "sequential"}
		if n > 10_000 {
			// Sequential verification of 100,000 headers takes many
			// minutes here; 10,000 show the ratio.
			modes = modes[:1]
		}
		for _, mode := range modes {
			b.Run(fmt.Sprintf("blocks=%d/%s", n, mode), func(b *testing.B) {
				opts := []light.Option{light.Logger(cmtlog.NewNopLogger()), light.PruningSize(200)}
				if mode == "sequential" {
					opts = append(opts, light.SequentialVerification())
				} else {
					opts = append(opts, light.SkippingVerification(light.DefaultTrustLevel))
				}
				var fetched int64
				for b.Loop() {
					node := &countingProvider{Provider: mockp.New(chainID, headers, vals)}
					witness := mockp.New(chainID, headers, vals)
					c, err := light.NewClient(context.Background(), chainID,
						light.TrustOptions{Period: 14 * 24 * time.Hour, Height: 1, Hash: headers[1].Hash()},
						node, []provider.Provider{witness}, dbs.New(dbm.NewMemDB(), "light"), opts...)
					if err != nil {
						b.Fatal(err)
					}
					node.n.Store(0)
					if _, err := c.VerifyLightBlockAtHeight(context.Background(), n, time.Now()); err != nil {
						b.Fatal(err)
					}
					fetched = node.n.Load()
				}
				b.ReportMetric(float64(fetched), "lightblocks-fetched")
			})
		}
	}
}

var catchUpSizes = []int64{10_000, 100_000}
