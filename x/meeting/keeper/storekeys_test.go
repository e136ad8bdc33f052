package keeper_test

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"
)

// The store keys a client computes are the ones the keeper writes: each
// record written through the messages is found, and decodes, at its key.
func TestStoreKeys(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	eph, _ := f.EphKey(t)
	require.NoError(t, w.rotate(w.mid, w.carol, eph))
	must := func(key []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return key
	}
	m := w.meeting(t, w.mid)
	req, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.carol))
	require.NoError(t, err)
	epoch, err := f.Keeper.Epochs.Get(f.Ctx, collections.Join(w.mid, uint64(1)))
	require.NoError(t, err)
	params, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(t, err)

	type storeCase struct {
		name      string
		key       []byte
		want, got proto.Message
	}
	cases := []storeCase{
		{"meeting", types.MeetingStoreKey(w.mid), &m, &types.Meeting{}},
		{"request", must(types.RequestStoreKey(w.mid, "carol", "laptop")), &req, &types.JoinRequest{}},
		{"epoch", must(types.EpochStoreKey(w.mid, 1)), &epoch, &types.Epoch{}},
		{"params", types.ParamsStoreKey(), &params, &types.Params{}},
	}
	for seq := uint64(1); seq <= m.RequestSeq; seq++ {
		e, err := f.Keeper.RequestLog.Get(f.Ctx, collections.Join(w.mid, seq))
		require.NoError(t, err)
		cases = append(cases, storeCase{fmt.Sprintf("log entry %d", seq), must(types.RequestLogStoreKey(w.mid, seq)), &e, &types.RequestLogEntry{}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bz := f.Raw(types.StoreKey, tc.key)
			require.NotNil(t, bz, "nothing stored at %x", tc.key)
			require.NoError(t, f.Codec.Unmarshal(bz, tc.got))
			require.Equal(t, tc.want, tc.got)
		})
	}
	// carol's request points at the rotation, the last entry.
	require.Equal(t, m.RequestSeq, req.Seq)

	// The layouts the README documents, byte for byte.
	id := hex.EncodeToString(w.mid)
	require.Equal(t, "02"+id, hex.EncodeToString(types.MeetingStoreKey(w.mid)))
	require.Equal(t, "0310"+id+hex.EncodeToString([]byte("carol/laptop")),
		hex.EncodeToString(must(types.RequestStoreKey(w.mid, "carol", "laptop"))))
	require.Equal(t, "0410"+id+"0000000000000001", hex.EncodeToString(must(types.EpochStoreKey(w.mid, 1))))
	require.Equal(t, "0d10"+id+"0000000000000005", hex.EncodeToString(must(types.RequestLogStoreKey(w.mid, 5))))
	require.Equal(t, "01", hex.EncodeToString(types.ParamsStoreKey()))

	// Nothing is stored at the key of what does not exist, and a meeting
	// ID too long for a non-terminal key cannot be encoded at all.
	require.Nil(t, f.Raw(types.StoreKey, must(types.RequestLogStoreKey(w.mid, m.RequestSeq+1))))
	require.Nil(t, f.Raw(types.StoreKey, must(types.RequestStoreKey(w.mid, "erin", "one"))))
	_, err = types.EpochStoreKey(make([]byte, 256), 1)
	require.Error(t, err)
}
