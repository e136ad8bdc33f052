package keeper_test

import (
	"encoding/hex"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/identity/types"
)

// The store keys a client computes are the ones the keeper writes: each
// record written through the keeper is found, and decodes, at its key.
func TestStoreKeys(t *testing.T) {
	w := newWorld(t)
	f := w.f
	must := func(key []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return key
	}
	user, err := f.Keeper.Users.Get(f.Ctx, "alice")
	require.NoError(t, err)
	device, err := f.Keeper.Devices.Get(f.Ctx, collections.Join("alice", "tablet"))
	require.NoError(t, err)
	history, err := f.Keeper.History.Get(f.Ctx, collections.Join("alice", uint64(2)))
	require.NoError(t, err)
	params, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(t, err)

	cases := []struct {
		name string
		key  []byte
		want proto.Message
		got  proto.Message
	}{
		{"user", types.UserStoreKey("alice"), &user, &types.User{}},
		{"device", must(types.DeviceStoreKey("alice", "tablet")), &device, &types.Device{}},
		{"history", must(types.HistoryStoreKey("alice", 2)), &history, &types.HistoryEntry{}},
		{"params", types.ParamsStoreKey(), &params, &types.Params{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bz := f.Raw(tc.key)
			require.NotNil(t, bz, "nothing stored at %x", tc.key)
			require.NoError(t, f.Codec.Unmarshal(bz, tc.got))
			require.Equal(t, tc.want, tc.got)
		})
	}

	// The layouts the README documents, byte for byte.
	require.Equal(t, "01"+hex.EncodeToString([]byte("alice")), hex.EncodeToString(types.UserStoreKey("alice")))
	require.Equal(t, "02"+hex.EncodeToString([]byte("alice"))+"00"+hex.EncodeToString([]byte("tablet")),
		hex.EncodeToString(must(types.DeviceStoreKey("alice", "tablet"))))
	require.Equal(t, "03"+hex.EncodeToString([]byte("alice"))+"00"+"0000000000000002",
		hex.EncodeToString(must(types.HistoryStoreKey("alice", 2))))
	require.Equal(t, "05", hex.EncodeToString(types.ParamsStoreKey()))

	// Nothing is stored at the key of a device that does not exist, and a
	// user ID with the non-terminal delimiter cannot be encoded at all.
	require.Nil(t, f.Raw(must(types.DeviceStoreKey("alice", "watch"))))
	_, err = types.DeviceStoreKey("ali\x00ce", "tablet")
	require.Error(t, err)
}
