package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

func TestUpdateParamsSuccess(t *testing.T) {
	for _, n := range []uint32{1, 2, 1000} {
		f := idtest.NewFixture(t)
		_, err := f.Msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: types.Params{MaxDevicesPerUser: n}})
		require.NoError(t, err)

		res, err := f.Query.Params(f.Ctx, &types.QueryParamsRequest{})
		require.NoError(t, err)
		require.Equal(t, n, res.Params.MaxDevicesPerUser)
		require.Equal(t, []*types.EventParamsUpdated{{MaxDevicesPerUser: n}}, idtest.Events[*types.EventParamsUpdated](t, f))
	}
}

func TestUpdateParamsRejections(t *testing.T) {
	cases := []struct {
		name string
		msg  func(t *testing.T, f *idtest.Fixture) *types.MsgUpdateParams
		want error
	}{
		{"wrong authority", func(t *testing.T, f *idtest.Fixture) *types.MsgUpdateParams {
			return &types.MsgUpdateParams{Authority: f.Addr(t, 0x01), Params: types.Params{MaxDevicesPerUser: 5}}
		}, types.ErrUnauthorized},
		{"empty authority", func(_ *testing.T, _ *idtest.Fixture) *types.MsgUpdateParams {
			return &types.MsgUpdateParams{Params: types.Params{MaxDevicesPerUser: 5}}
		}, types.ErrUnauthorized},
		{"zero devices", func(_ *testing.T, f *idtest.Fixture) *types.MsgUpdateParams {
			return &types.MsgUpdateParams{Authority: f.Authority}
		}, types.ErrInvalidParams},
		{"above the ceiling", func(_ *testing.T, f *idtest.Fixture) *types.MsgUpdateParams {
			return &types.MsgUpdateParams{Authority: f.Authority, Params: types.Params{MaxDevicesPerUser: 1001}}
		}, types.ErrInvalidParams},
		{"wrong authority and invalid params", func(t *testing.T, f *idtest.Fixture) *types.MsgUpdateParams {
			return &types.MsgUpdateParams{Authority: f.Addr(t, 0x01)}
		}, types.ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := idtest.NewFixture(t)
			msg := tc.msg(t, f)
			before := f.Snapshot(t)
			_, err := f.Msg.UpdateParams(f.Ctx, msg)
			requireRejected(t, f, before, err, tc.want)
			res, err := f.Query.Params(f.Ctx, &types.QueryParamsRequest{})
			require.NoError(t, err)
			require.Equal(t, types.DefaultParams(), res.Params)
		})
	}
}
