package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/parleynet/parley/x/identity/types"
)

type queryServer struct{ k *Keeper }

// NewQueryServerImpl returns the module's Query service.
func NewQueryServerImpl(k *Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func notFound(err error, what string) error {
	if errors.Is(err, collections.ErrNotFound) {
		return status.Errorf(codes.NotFound, "%s not found", what)
	}
	return status.Error(codes.Internal, err.Error())
}

func (q queryServer) User(ctx context.Context, req *types.QueryUserRequest) (*types.QueryUserResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	u, err := q.k.Users.Get(ctx, req.UserId)
	if err != nil {
		return nil, notFound(err, "user "+req.UserId)
	}
	return &types.QueryUserResponse{User: u}, nil
}

func (q queryServer) Devices(ctx context.Context, req *types.QueryDevicesRequest) (*types.QueryDevicesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if has, err := q.k.Users.Has(ctx, req.UserId); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	} else if !has {
		return nil, status.Errorf(codes.NotFound, "user %s not found", req.UserId)
	}
	var out []types.Device
	rng := collections.NewPrefixedPairRange[string, string](req.UserId)
	err := q.k.Devices.Walk(ctx, rng, func(_ collections.Pair[string, string], d types.Device) (bool, error) {
		if req.IncludeRevoked || d.RevokedHeight == 0 {
			out = append(out, d)
		}
		return false, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryDevicesResponse{Devices: out}, nil
}

func (q queryServer) Device(ctx context.Context, req *types.QueryDeviceRequest) (*types.QueryDeviceResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	d, err := q.k.Devices.Get(ctx, collections.Join(req.UserId, req.DeviceId))
	if err != nil {
		return nil, notFound(err, "device "+types.DeviceRef{User: req.UserId, Device: req.DeviceId}.String())
	}
	return &types.QueryDeviceResponse{Device: d}, nil
}

func (q queryServer) History(ctx context.Context, req *types.QueryHistoryRequest) (*types.QueryHistoryResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	entries, page, err := query.CollectionPaginate(ctx, q.k.History, req.Pagination,
		func(_ collections.Pair[string, uint64], e types.HistoryEntry) (types.HistoryEntry, error) {
			return e, nil
		},
		query.WithCollectionPaginationPairPrefix[string, uint64](req.UserId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryHistoryResponse{Entries: entries, Pagination: page}, nil
}

func (q queryServer) UsersByOwner(ctx context.Context, req *types.QueryUsersByOwnerRequest) (*types.QueryUsersByOwnerResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.k.addressCodec.StringToBytes(req.Owner)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "owner %q: %v", req.Owner, err)
	}
	users, page, err := query.CollectionPaginate(ctx, q.k.UsersByOwner.Map(), req.Pagination,
		func(key collections.Pair[sdk.AccAddress, string], _ []byte) (types.User, error) {
			return q.k.Users.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[sdk.AccAddress, string](owner))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryUsersByOwnerResponse{Users: users, Pagination: page}, nil
}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}
