package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/identity/types"
)

// InitGenesis loads a validated genesis state.
func (k *Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, u := range gs.Users {
		if err := k.Users.Set(ctx, u.UserId, u); err != nil {
			return err
		}
		if err := k.indexOwner(ctx, u); err != nil {
			return err
		}
	}
	for _, d := range gs.Devices {
		if err := k.Devices.Set(ctx, collections.Join(d.UserId, d.DeviceId), d); err != nil {
			return err
		}
		if err := k.PubKeys.Set(ctx, d.Pubkey, d.Ref().String()); err != nil {
			return err
		}
	}
	for _, e := range gs.History {
		if err := k.History.Set(ctx, collections.Join(e.UserId, e.Seq), e); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis dumps the whole registry in key order.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	err = k.Users.Walk(ctx, nil, func(_ string, u types.User) (bool, error) {
		gs.Users = append(gs.Users, u)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Devices.Walk(ctx, nil, func(_ collections.Pair[string, string], d types.Device) (bool, error) {
		gs.Devices = append(gs.Devices, d)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.History.Walk(ctx, nil, func(_ collections.Pair[string, uint64], e types.HistoryEntry) (bool, error) {
		gs.History = append(gs.History, e)
		return false, nil
	})
	return gs, err
}
