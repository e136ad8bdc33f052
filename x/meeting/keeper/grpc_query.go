package keeper

import (
	"context"
	"errors"
	"github.com/parleynet/parley/internal/markset"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/parleynet/parley/x/meeting/types"
)

type queryServer struct{ k *Keeper }

// NewQueryServerImpl returns the module's Query service.
func NewQueryServerImpl(k *Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) meeting(ctx context.Context, id []byte) (types.Meeting, error) {
	m, err := q.k.Meetings.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return m, status.Errorf(codes.NotFound, "meeting %x not found", id)
	} else if err != nil {
		return m, status.Error(codes.Internal, err.Error())
	}
	return m, nil
}

func (q queryServer) Meeting(ctx context.Context, req *types.QueryMeetingRequest) (*types.QueryMeetingResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	m, err := q.meeting(ctx, req.MeetingId)
	if err != nil {
		return nil, err
	}
	return &types.QueryMeetingResponse{Meeting: m}, nil
}

func (q queryServer) JoinRequests(ctx context.Context, req *types.QueryJoinRequestsRequest) (*types.QueryJoinRequestsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	reqs, page, err := query.CollectionFilteredPaginate(ctx, q.k.Requests, req.Pagination,
		func(_ RequestKey, r types.JoinRequest) (bool, error) {
			return req.Status == types.RequestStatus_REQUEST_STATUS_UNSPECIFIED || r.Status == req.Status, nil
		},
		func(_ RequestKey, r types.JoinRequest) (types.JoinRequest, error) { return r, nil },
		query.WithCollectionPaginationPairPrefix[[]byte, string](req.MeetingId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryJoinRequestsResponse{Requests: reqs, Pagination: page}, nil
}

func (q queryServer) Epoch(ctx context.Context, req *types.QueryEpochRequest) (*types.QueryEpochResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	n := req.Epoch
	if n == 0 {
		m, err := q.meeting(ctx, req.MeetingId)
		if err != nil {
			return nil, err
		}
		if m.Epoch == 0 {
			return nil, status.Errorf(codes.NotFound, "meeting %x has no epoch yet", req.MeetingId)
		}
		n = m.Epoch
	}
	e, err := q.k.Epochs.Get(ctx, collections.Join(req.MeetingId, n))
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "epoch %d of meeting %x not found", n, req.MeetingId)
	}
	return &types.QueryEpochResponse{Epoch: e}, nil
}

func (q queryServer) Epochs(ctx context.Context, req *types.QueryEpochsRequest) (*types.QueryEpochsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	es, page, err := query.CollectionPaginate(ctx, q.k.Epochs, req.Pagination,
		func(_ collections.Pair[[]byte, uint64], e types.Epoch) (types.Epoch, error) { return e, nil },
		query.WithCollectionPaginationPairPrefix[[]byte, uint64](req.MeetingId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryEpochsResponse{Epochs: es, Pagination: page}, nil
}

func (q queryServer) meetingsOf(ctx context.Context, idx markset.Set[collections.Pair[string, []byte]], user string, p *query.PageRequest) (*types.QueryMeetingsResponse, error) {
	ms, page, err := query.CollectionPaginate(ctx, idx.Map(), p,
		func(key collections.Pair[string, []byte], _ []byte) (types.Meeting, error) {
			return q.k.Meetings.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[string, []byte](user))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryMeetingsResponse{Meetings: ms, Pagination: page}, nil
}

func (q queryServer) MeetingsByLeader(ctx context.Context, req *types.QueryMeetingsByLeaderRequest) (*types.QueryMeetingsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	return q.meetingsOf(ctx, q.k.LeaderIndex, req.UserId, req.Pagination)
}

func (q queryServer) MeetingsByUser(ctx context.Context, req *types.QueryMeetingsByUserRequest) (*types.QueryMeetingsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	return q.meetingsOf(ctx, q.k.MemberIndex, req.UserId, req.Pagination)
}

// Request log page sizes: the default and the most one query returns.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

// RequestLog returns log entries from_seq.. of a meeting, at most limit.
func (q queryServer) RequestLog(ctx context.Context, req *types.QueryRequestLogRequest) (*types.QueryRequestLogResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	m, err := q.meeting(ctx, req.MeetingId)
	if err != nil {
		return nil, err
	}
	limit := int(req.Limit)
	if limit == 0 {
		limit = defaultLogLimit
	}
	if limit > maxLogLimit {
		return nil, status.Errorf(codes.InvalidArgument, "limit: at most %d, got %d", maxLogLimit, limit)
	}
	from := max(req.FromSeq, 1)
	res := &types.QueryRequestLogResponse{RequestSeq: m.RequestSeq}
	rng := collections.NewPrefixedPairRange[[]byte, uint64](req.MeetingId).StartInclusive(from)
	err = q.k.RequestLog.Walk(ctx, rng, func(key collections.Pair[[]byte, uint64], e types.RequestLogEntry) (bool, error) {
		res.Entries = append(res.Entries, types.RequestLogRecord{MeetingId: key.K1(), Seq: key.K2(), Entry: e})
		return len(res.Entries) >= limit, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}
