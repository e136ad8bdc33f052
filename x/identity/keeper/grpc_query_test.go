package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func requireCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, status.Code(err), "error: %v", err)
}

func TestQueryUser(t *testing.T) {
	w := newWorld(t)
	res, err := w.f.Query.User(w.f.Ctx, &types.QueryUserRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Equal(t, types.User{UserId: "alice", Owner: w.aliceAddr, Seq: 4, CreatedHeight: idtest.Height}, res.User)

	_, err = w.f.Query.User(w.f.Ctx, &types.QueryUserRequest{UserId: "carol"})
	requireCode(t, err, codes.NotFound)
	_, err = w.f.Query.User(w.f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryDevices(t *testing.T) {
	w := newWorld(t)
	ids := func(ds []types.Device) []string {
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			require.Equal(t, "alice", d.UserId)
			out = append(out, d.DeviceId)
		}
		return out
	}
	res, err := w.f.Query.Devices(w.f.Ctx, &types.QueryDevicesRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Equal(t, []string{"phone", "tablet"}, ids(res.Devices))

	res, err = w.f.Query.Devices(w.f.Ctx, &types.QueryDevicesRequest{UserId: "alice", IncludeRevoked: true})
	require.NoError(t, err)
	require.Equal(t, []string{"old", "phone", "tablet"}, ids(res.Devices))
	require.Equal(t, w.old.Pub(), res.Devices[0].Pubkey)
	require.Equal(t, int64(idtest.Height), res.Devices[0].RevokedHeight)

	_, err = w.f.Query.Devices(w.f.Ctx, &types.QueryDevicesRequest{UserId: "carol"})
	requireCode(t, err, codes.NotFound)
	_, err = w.f.Query.Devices(w.f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

// TestQueryDevicesPrefix checks that a user's devices do not include those of
// a user whose ID extends it.
func TestQueryDevicesPrefix(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.register(w.aliceAddr, "alice2", w.laptop))
	res, err := w.f.Query.Devices(w.f.Ctx, &types.QueryDevicesRequest{UserId: "alice", IncludeRevoked: true})
	require.NoError(t, err)
	require.Len(t, res.Devices, 3)
}

func TestQueryDevice(t *testing.T) {
	w := newWorld(t)
	res, err := w.f.Query.Device(w.f.Ctx, &types.QueryDeviceRequest{UserId: "alice", DeviceId: "tablet"})
	require.NoError(t, err)
	require.Equal(t, types.Device{
		UserId: "alice", DeviceId: "tablet", Pubkey: w.tablet.Pub(), AddedBy: "phone", AddedHeight: idtest.Height,
	}, res.Device)

	res, err = w.f.Query.Device(w.f.Ctx, &types.QueryDeviceRequest{UserId: "alice", DeviceId: "old"})
	require.NoError(t, err, "revoked devices stay queryable")
	require.Equal(t, int64(idtest.Height), res.Device.RevokedHeight)

	for _, req := range []*types.QueryDeviceRequest{
		{UserId: "alice", DeviceId: "desk"},
		{UserId: "carol", DeviceId: "phone"},
		{UserId: "alice", DeviceId: ""},
	} {
		_, err = w.f.Query.Device(w.f.Ctx, req)
		requireCode(t, err, codes.NotFound)
	}
	_, err = w.f.Query.Device(w.f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryHistory(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.register(w.aliceAddr, "alice2", w.laptop))
	wantOps := []types.Op{types.Op_OP_REGISTER, types.Op_OP_ADD, types.Op_OP_ADD, types.Op_OP_REVOKE}

	all, err := w.f.Query.History(w.f.Ctx, &types.QueryHistoryRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Len(t, all.Entries, len(wantOps))
	for i, e := range all.Entries {
		require.Equal(t, "alice", e.UserId)
		require.EqualValues(t, i, e.Seq)
		require.Equal(t, wantOps[i], e.Op)
	}
	require.Equal(t, types.HistoryEntry{
		UserId: "alice", Seq: 3, Op: types.Op_OP_REVOKE, DeviceId: "old", Pubkey: w.old.Pub(), Approver: "phone", Height: idtest.Height,
	}, all.Entries[3])

	// One entry a page, following next_key to the end.
	var got []types.HistoryEntry
	page := &query.PageRequest{Limit: 1, CountTotal: true}
	for i := 0; ; i++ {
		require.Less(t, i, 10, "pagination does not end")
		res, err := w.f.Query.History(w.f.Ctx, &types.QueryHistoryRequest{UserId: "alice", Pagination: page})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Entries), 1)
		got = append(got, res.Entries...)
		if i == 0 {
			require.EqualValues(t, 4, res.Pagination.Total)
			require.NotEmpty(t, res.Pagination.NextKey)
		}
		if len(res.Pagination.NextKey) == 0 {
			break
		}
		page = &query.PageRequest{Key: res.Pagination.NextKey, Limit: 1}
	}
	require.Equal(t, all.Entries, got)

	// Offset paging.
	res, err := w.f.Query.History(w.f.Ctx, &types.QueryHistoryRequest{UserId: "alice", Pagination: &query.PageRequest{Offset: 2, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, all.Entries[2:3], res.Entries)

	// A user that does not exist has an empty history, not an error.
	res, err = w.f.Query.History(w.f.Ctx, &types.QueryHistoryRequest{UserId: "carol"})
	require.NoError(t, err)
	require.Empty(t, res.Entries)

	_, err = w.f.Query.History(w.f.Ctx, &types.QueryHistoryRequest{UserId: "alice", Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}})
	requireCode(t, err, codes.InvalidArgument)
	_, err = w.f.Query.History(w.f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryUsersByOwner(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.register(w.aliceAddr, "alice2", w.laptop))
	require.NoError(t, w.register(w.aliceAddr, "alice3", w.watch))

	all, err := w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{Owner: w.aliceAddr})
	require.NoError(t, err)
	names := func(us []types.User) []string {
		out := make([]string, 0, len(us))
		for _, u := range us {
			require.Equal(t, w.aliceAddr, u.Owner)
			out = append(out, u.UserId)
		}
		return out
	}
	require.Equal(t, []string{"alice", "alice2", "alice3"}, names(all.Users))

	res, err := w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{
		Owner: w.aliceAddr, Pagination: &query.PageRequest{Limit: 2, CountTotal: true},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"alice", "alice2"}, names(res.Users))
	require.EqualValues(t, 3, res.Pagination.Total)
	require.NotEmpty(t, res.Pagination.NextKey)

	res, err = w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{
		Owner: w.aliceAddr, Pagination: &query.PageRequest{Key: res.Pagination.NextKey, Limit: 2},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"alice3"}, names(res.Users))
	require.Empty(t, res.Pagination.NextKey)

	res, err = w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{Owner: w.bobAddr})
	require.NoError(t, err)
	require.Len(t, res.Users, 1)
	require.Equal(t, "bob", res.Users[0].UserId)

	res, err = w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{Owner: w.malAddr})
	require.NoError(t, err)
	require.Empty(t, res.Users)

	for _, owner := range []string{"", "parley1nope", "cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"} {
		_, err = w.f.Query.UsersByOwner(w.f.Ctx, &types.QueryUsersByOwnerRequest{Owner: owner})
		requireCode(t, err, codes.InvalidArgument)
	}
	_, err = w.f.Query.UsersByOwner(w.f.Ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryParams(t *testing.T) {
	w := newWorld(t)
	res, err := w.f.Query.Params(w.f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), res.Params)
	w.setMaxDevices(t, 7)
	res, err = w.f.Query.Params(w.f.Ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 7, res.Params.MaxDevicesPerUser)
}
