package simtest

import (
	"bytes"
	"fmt"
	"slices"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdktestutil "github.com/cosmos/cosmos-sdk/testutil"

	meetingkeeper "github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

// roundTrip imports the exported genesis into a fresh store and checks
// that it exports the same again and that the rebuilt indexes, queues and
// counters match the imported records. Keys of old requests are not in
// the genesis format, so the rebuilt used-key set may only be smaller.
func (r *run) roundTrip() {
	r.t.Helper()
	gs := r.s.export(r.t)
	key := storetypes.NewKVStoreKey(types.StoreKey)
	ctx := sdktestutil.DefaultContextWithKeys(map[string]*storetypes.KVStoreKey{key.Name(): key}, nil, nil).
		WithChainID(chainID).WithBlockHeight(r.s.height()).WithBlockTime(r.s.ctx.BlockTime())
	k := meetingkeeper.NewKeeper(r.s.cdc, runtime.NewKVStoreService(key), r.s.identity, r.s.authority)
	r.must(k.InitGenesis(ctx, gs), "import the exported genesis")
	again, err := k.ExportGenesis(ctx)
	r.must(err, "export the imported genesis")
	a, err := gs.Marshal()
	r.must(err, "marshal genesis")
	b, err := again.Marshal()
	r.must(err, "marshal genesis")
	if !bytes.Equal(a, b) {
		r.fatalf("export, import, export does not give the same genesis: %s", genesisDiff(gs, again))
	}
	r.checkIndexes(ctx, k, readState(r, ctx, k), nil)
	var lost []string
	r.must(k.UsedEphKeys.Walk(ctx, nil, func(p collections.Pair[[]byte, []byte]) (bool, error) {
		if has, err := r.s.meeting.UsedEphKeys.Has(r.s.ctx, p); err != nil || !has {
			lost = append(lost, fmt.Sprintf("%x/%x", p.K1(), p.K2()))
		}
		return false, nil
	}), "walk used keys")
	if len(lost) > 0 {
		r.fatalf("import invented used keys %v", lost)
	}
}

// genesisDiff names the first meeting, request or epoch in which two
// genesis states differ.
func genesisDiff(a, b *types.GenesisState) string {
	ids := func(gs *types.GenesisState) []string {
		var out []string
		for _, m := range gs.Meetings {
			out = append(out, fmt.Sprintf("%x", m.MeetingId))
		}
		return out
	}
	if x, y := ids(a), ids(b); !slices.Equal(x, y) {
		return fmt.Sprintf("meetings %v became %v", x, y)
	}
	for i := range a.Meetings {
		if x, y := a.Meetings[i].String(), b.Meetings[i].String(); x != y {
			return fmt.Sprintf("meeting %s became %s", x, y)
		}
	}
	if len(a.Requests) != len(b.Requests) || len(a.Epochs) != len(b.Epochs) {
		return fmt.Sprintf("%d requests and %d epochs became %d and %d", len(a.Requests), len(a.Epochs), len(b.Requests), len(b.Epochs))
	}
	return "requests or epochs differ"
}
