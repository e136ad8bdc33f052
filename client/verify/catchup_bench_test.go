package verify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/parleynet/parley/client/verify"
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

// memProvider serves a generated chain from memory, with no delay (the
// cost measured is the light client's; CometBFT's mock provider adds
// 10 ms per call), and counts the light blocks fetched.
type memProvider struct {
	chainID string
	headers map[int64]*types.SignedHeader
	vals    map[int64]*types.ValidatorSet
	n       atomic.Int64
}

func (m *memProvider) ChainID() string { return m.chainID }

func (m *memProvider) LightBlock(_ context.Context, h int64) (*types.LightBlock, error) {
	m.n.Add(1)
	if h == 0 {
		h = int64(len(m.headers))
	}
	sh, ok := m.headers[h]
	if !ok {
		return nil, provider.ErrHeightTooHigh
	}
	return &types.LightBlock{SignedHeader: sh, ValidatorSet: m.vals[h]}, nil
}

func (m *memProvider) ReportEvidence(context.Context, types.Evidence) error { return nil }

// BenchmarkLightCatchUp measures how much a client that was offline for a
// chain's worth of blocks pays to catch up from its newest trusted header
// (height 1) to the newest: with the client's skipping verification
// (bisection, trust level 1/3) and, for reference, sequential
// verification of every header. One validator of four is replaced every
// 2,000 blocks. The headers come from memory: this is the verification
// cost, without network round trips (each light block fetched costs two
// RPCs on a real node, about 1 ms each on loopback; the count of light
// blocks fetched from the primary is reported).
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
					node := &memProvider{chainID: chainID, headers: headers, vals: vals}
					witness := &memProvider{chainID: chainID, headers: headers, vals: vals}
					c, err := light.NewClient(context.Background(), chainID,
						light.TrustOptions{Period: 14 * 24 * time.Hour, Height: 1, Hash: headers[1].Hash()},
						node, []provider.Provider{witness}, verify.NewMemStore(), opts...)
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
