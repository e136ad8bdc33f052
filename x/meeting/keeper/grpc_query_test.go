package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func requireCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, status.Code(err), "%v", err)
}

// queryWorld: mid at epoch 3 (alice, bob, carol), dave and erin/one
// pending, erin/two left; a second meeting led by bob with no epoch.
func queryWorld(t *testing.T) (*world, []byte) {
	t.Helper()
	w := newWorld(t).withRoster(t)
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_ROTATE, w.alice, w.bob, w.carol))
	require.NoError(t, w.commit(w.mid, 3, w.alice, types.Reason_REASON_ROTATE, w.alice, w.bob, w.carol))
	require.NoError(t, w.request(w.mid, w.erin1))
	require.NoError(t, w.request(w.mid, w.erin2))
	require.NoError(t, w.leave(w.mid, w.erin2))
	other := mtest.NewMeetingID(2)
	require.NoError(t, w.create(other, w.bob, types.Policy{}))
	return w, other
}

func TestQueryMeeting(t *testing.T) {
	w, _ := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	res, err := q.Meeting(ctx, &types.QueryMeetingRequest{MeetingId: w.mid})
	require.NoError(t, err)
	require.Equal(t, w.meeting(t, w.mid), res.Meeting)
	_, err = q.Meeting(ctx, &types.QueryMeetingRequest{MeetingId: mtest.NewMeetingID(99)})
	requireCode(t, err, codes.NotFound)
	_, err = q.Meeting(ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryJoinRequests(t *testing.T) {
	w, other := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	users := func(rs []types.JoinRequest) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Ref().String())
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		status types.RequestStatus
		want   []string
	}{
		{"all", types.RequestStatus_REQUEST_STATUS_UNSPECIFIED, []string{"alice/phone", "bob/desk", "carol/laptop", "dave/pc", "erin/one", "erin/two"}},
		{"pending", types.RequestStatus_REQUEST_STATUS_PENDING, []string{"dave/pc", "erin/one"}},
		{"admitted", types.RequestStatus_REQUEST_STATUS_ADMITTED, []string{"alice/phone", "bob/desk", "carol/laptop"}},
		{"left", types.RequestStatus_REQUEST_STATUS_LEFT, []string{"erin/two"}},
		{"removed", types.RequestStatus_REQUEST_STATUS_REMOVED, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := q.JoinRequests(ctx, &types.QueryJoinRequestsRequest{MeetingId: w.mid, Status: tc.status})
			require.NoError(t, err)
			require.Equal(t, tc.want, users(res.Requests))
		})
	}
	t.Run("other meeting", func(t *testing.T) {
		res, err := q.JoinRequests(ctx, &types.QueryJoinRequestsRequest{MeetingId: other})
		require.NoError(t, err)
		require.Equal(t, []string{"bob/desk"}, users(res.Requests))
	})
	t.Run("paginated", func(t *testing.T) {
		var got []string
		var key []byte
		for page := 0; ; page++ {
			require.Less(t, page, 10)
			res, err := q.JoinRequests(ctx, &types.QueryJoinRequestsRequest{
				MeetingId: w.mid, Status: types.RequestStatus_REQUEST_STATUS_ADMITTED,
				Pagination: &query.PageRequest{Key: key, Limit: 2},
			})
			require.NoError(t, err)
			require.LessOrEqual(t, len(res.Requests), 2)
			got = append(got, users(res.Requests)...)
			if key = res.Pagination.NextKey; key == nil {
				break
			}
		}
		require.Equal(t, []string{"alice/phone", "bob/desk", "carol/laptop"}, got)
	})
	t.Run("count total", func(t *testing.T) {
		res, err := q.JoinRequests(ctx, &types.QueryJoinRequestsRequest{
			MeetingId: w.mid, Pagination: &query.PageRequest{Limit: 1, CountTotal: true},
		})
		require.NoError(t, err)
		require.Len(t, res.Requests, 1)
		require.EqualValues(t, 6, res.Pagination.Total)
	})
	t.Run("nil request", func(t *testing.T) {
		_, err := q.JoinRequests(ctx, nil)
		requireCode(t, err, codes.InvalidArgument)
	})
}

func TestQueryEpoch(t *testing.T) {
	w, other := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	for _, n := range []uint64{1, 2, 3} {
		res, err := q.Epoch(ctx, &types.QueryEpochRequest{MeetingId: w.mid, Epoch: n})
		require.NoError(t, err)
		require.Equal(t, n, res.Epoch.Epoch)
		require.Equal(t, mtest.Commitment(int(n)), res.Epoch.KeyCommitment)
	}
	latest, err := q.Epoch(ctx, &types.QueryEpochRequest{MeetingId: w.mid})
	require.NoError(t, err)
	require.EqualValues(t, 3, latest.Epoch.Epoch)
	require.Equal(t, w.meeting(t, w.mid).RosterHash, latest.Epoch.RosterHash)

	for _, tc := range []struct {
		name string
		req  *types.QueryEpochRequest
		code codes.Code
	}{
		{"epoch past the last", &types.QueryEpochRequest{MeetingId: w.mid, Epoch: 4}, codes.NotFound},
		{"latest of a meeting without epochs", &types.QueryEpochRequest{MeetingId: other}, codes.NotFound},
		{"latest of an unknown meeting", &types.QueryEpochRequest{MeetingId: mtest.NewMeetingID(99)}, codes.NotFound},
		{"numbered of an unknown meeting", &types.QueryEpochRequest{MeetingId: mtest.NewMeetingID(99), Epoch: 1}, codes.NotFound},
		{"nil request", nil, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := q.Epoch(ctx, tc.req)
			requireCode(t, err, tc.code)
		})
	}
}

func TestQueryEpochs(t *testing.T) {
	w, other := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	var got []uint64
	var key []byte
	for page := 0; ; page++ {
		require.Less(t, page, 10)
		res, err := q.Epochs(ctx, &types.QueryEpochsRequest{MeetingId: w.mid, Pagination: &query.PageRequest{Key: key, Limit: 2}})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Epochs), 2)
		for _, e := range res.Epochs {
			require.Equal(t, w.mid, e.MeetingId)
			got = append(got, e.Epoch)
		}
		if key = res.Pagination.NextKey; key == nil {
			break
		}
	}
	require.Equal(t, []uint64{1, 2, 3}, got)

	res, err := q.Epochs(ctx, &types.QueryEpochsRequest{MeetingId: other})
	require.NoError(t, err)
	require.Empty(t, res.Epochs)
	res, err = q.Epochs(ctx, &types.QueryEpochsRequest{MeetingId: w.mid, Pagination: &query.PageRequest{Offset: 2, CountTotal: true}})
	require.NoError(t, err)
	require.Len(t, res.Epochs, 1)
	require.EqualValues(t, 3, res.Pagination.Total)
	_, err = q.Epochs(ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}

func TestQueryMeetingsByLeaderAndUser(t *testing.T) {
	w, other := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	ids := func(res *types.QueryMeetingsResponse) [][]byte {
		var out [][]byte
		for _, m := range res.Meetings {
			out = append(out, m.MeetingId)
		}
		return out
	}
	for _, tc := range []struct {
		user            string
		leads, memberOf [][]byte
	}{
		{"alice", [][]byte{w.mid}, [][]byte{w.mid}},
		{"bob", [][]byte{other}, [][]byte{w.mid}},
		{"carol", nil, [][]byte{w.mid}},
		{"dave", nil, nil}, // pending: not a member yet
		{"zed", nil, nil},
	} {
		t.Run(tc.user, func(t *testing.T) {
			res, err := q.MeetingsByLeader(ctx, &types.QueryMeetingsByLeaderRequest{UserId: tc.user})
			require.NoError(t, err)
			require.Equal(t, tc.leads, ids(res))
			res, err = q.MeetingsByUser(ctx, &types.QueryMeetingsByUserRequest{UserId: tc.user})
			require.NoError(t, err)
			require.Equal(t, tc.memberOf, ids(res))
		})
	}
	t.Run("prefix of a user ID matches nothing", func(t *testing.T) {
		res, err := q.MeetingsByUser(ctx, &types.QueryMeetingsByUserRequest{UserId: "ali"})
		require.NoError(t, err)
		require.Empty(t, res.Meetings)
	})
	t.Run("paginated", func(t *testing.T) {
		third := mtest.NewMeetingID(3)
		require.NoError(t, w.create(third, w.alice, types.Policy{}))
		res, err := q.MeetingsByLeader(ctx, &types.QueryMeetingsByLeaderRequest{UserId: "alice", Pagination: &query.PageRequest{Limit: 1}})
		require.NoError(t, err)
		require.Equal(t, [][]byte{w.mid}, ids(res))
		res, err = q.MeetingsByLeader(ctx, &types.QueryMeetingsByLeaderRequest{UserId: "alice", Pagination: &query.PageRequest{Key: res.Pagination.NextKey}})
		require.NoError(t, err)
		require.Equal(t, [][]byte{third}, ids(res))
	})
	t.Run("nil requests", func(t *testing.T) {
		_, err := q.MeetingsByLeader(ctx, nil)
		requireCode(t, err, codes.InvalidArgument)
		_, err = q.MeetingsByUser(ctx, nil)
		requireCode(t, err, codes.InvalidArgument)
	})
}

func TestQueryParams(t *testing.T) {
	w := newWorld(t)
	res, err := w.f.Query.Params(w.f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), res.Params)
	setParams(t, w.f, func(p *types.Params) { p.MaxParticipants = 50 })
	res, err = w.f.Query.Params(w.f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.EqualValues(t, 50, res.Params.MaxParticipants)
}

func TestQueryRequestLog(t *testing.T) {
	w, other := queryWorld(t)
	q, ctx := w.f.Query, w.f.Ctx
	devices := func(rs []types.RequestLogRecord) []string {
		var out []string
		for _, r := range rs {
			require.Equal(t, w.mid, r.MeetingId)
			out = append(out, fmt.Sprintf("%d:%s/%s:%s", r.Seq, r.Entry.UserId, r.Entry.DeviceId, r.Entry.Kind))
		}
		return out
	}
	all := []string{
		"1:alice/phone:LOG_KIND_CREATE", "2:bob/desk:LOG_KIND_REQUEST", "3:carol/laptop:LOG_KIND_REQUEST",
		"4:dave/pc:LOG_KIND_REQUEST", "5:erin/one:LOG_KIND_REQUEST", "6:erin/two:LOG_KIND_REQUEST",
	}
	for _, tc := range []struct {
		name  string
		from  uint64
		limit uint32
		want  []string
	}{
		{"all", 0, 0, all},
		{"from 1", 1, 0, all},
		{"from 3", 3, 0, all[2:]},
		{"from 3, two", 3, 2, all[2:4]},
		{"past the end", 7, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := q.RequestLog(ctx, &types.QueryRequestLogRequest{MeetingId: w.mid, FromSeq: tc.from, Limit: tc.limit})
			require.NoError(t, err)
			require.Equal(t, tc.want, devices(res.Entries))
			require.EqualValues(t, 6, res.RequestSeq)
		})
	}
	// Another meeting's log is its own.
	res, err := q.RequestLog(ctx, &types.QueryRequestLogRequest{MeetingId: other})
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	require.Equal(t, other, res.Entries[0].MeetingId)

	_, err = q.RequestLog(ctx, &types.QueryRequestLogRequest{MeetingId: w.mid, Limit: 1001})
	requireCode(t, err, codes.InvalidArgument)
	_, err = q.RequestLog(ctx, &types.QueryRequestLogRequest{MeetingId: mtest.NewMeetingID(99)})
	requireCode(t, err, codes.NotFound)
	_, err = q.RequestLog(ctx, nil)
	requireCode(t, err, codes.InvalidArgument)
}
