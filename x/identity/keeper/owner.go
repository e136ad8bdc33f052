package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/identity/types"
)

// canonicalAddress decodes an account address and returns its canonical
// (lowercase bech32) spelling, so one account is always stored the same way.
func (k *Keeper) canonicalAddress(addr string) (string, error) {
	bz, err := k.addressCodec.StringToBytes(addr)
	if err != nil {
		return "", types.ErrInvalidAddress.Wrapf("owner %q: %v", addr, err)
	}
	canonical, err := k.addressCodec.BytesToString(bz)
	if err != nil {
		return "", types.ErrInvalidAddress.Wrapf("owner %q: %v", addr, err)
	}
	return canonical, nil
}

// ownedUser loads a user and checks that owner (in any spelling) owns it.
func (k *Keeper) ownedUser(ctx context.Context, owner, userID string) (types.User, error) {
	owner, err := k.canonicalAddress(owner)
	if err != nil {
		return types.User{}, err
	}
	u, err := k.Users.Get(ctx, userID)
	if errors.Is(err, collections.ErrNotFound) {
		return u, types.ErrUserNotFound.Wrapf("user_id %q", userID)
	} else if err != nil {
		return u, err
	}
	if u.Owner != owner {
		return u, types.ErrNotOwner.Wrapf("user %s is owned by %s, not %s", userID, u.Owner, owner)
	}
	return u, nil
}
