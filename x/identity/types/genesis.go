package types

import (
	"encoding/hex"

	"cosmossdk.io/core/address"
	"cosmossdk.io/errors"
)

// DefaultGenesis returns an empty registry with default params.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate rejects malformed entries, duplicates and dangling references:
// every device and history entry must belong to a user, device IDs and
// public keys are unique, and each user's history is exactly seq entries
// numbered 0..seq-1.
func (gs GenesisState) Validate(ac address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	users := make(map[string]User, len(gs.Users))
	for i, u := range gs.Users {
		if err := ValidateUserID("users[].user_id", u.UserId); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "users[%d]: %v", i, err)
		}
		bz, err := ac.StringToBytes(u.Owner)
		if err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "users[%d] %s: owner %q: %v", i, u.UserId, u.Owner, err)
		}
		if canonical, err := ac.BytesToString(bz); err != nil || canonical != u.Owner {
			return errors.Wrapf(ErrInvalidGenesis, "users[%d] %s: owner %q is not in canonical form", i, u.UserId, u.Owner)
		}
		if _, dup := users[u.UserId]; dup {
			return errors.Wrapf(ErrInvalidGenesis, "users[%d]: duplicate user %s", i, u.UserId)
		}
		users[u.UserId] = u
	}
	devices := make(map[[2]string]bool, len(gs.Devices))
	keys := make(map[string]bool, len(gs.Devices))
	for i, d := range gs.Devices {
		if _, ok := users[d.UserId]; !ok {
			return errors.Wrapf(ErrInvalidGenesis, "devices[%d]: unknown user %s", i, d.UserId)
		}
		if err := ValidateDeviceID("devices[].device_id", d.DeviceId); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "devices[%d]: %v", i, err)
		}
		if err := ValidatePubKey("devices[].pubkey", d.Pubkey); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "devices[%d]: %v", i, err)
		}
		id := [2]string{d.UserId, d.DeviceId}
		if devices[id] {
			return errors.Wrapf(ErrInvalidGenesis, "devices[%d]: duplicate device %s/%s", i, d.UserId, d.DeviceId)
		}
		devices[id] = true
		k := hex.EncodeToString(d.Pubkey)
		if keys[k] {
			return errors.Wrapf(ErrInvalidGenesis, "devices[%d]: public key of %s/%s used twice", i, d.UserId, d.DeviceId)
		}
		keys[k] = true
	}
	seen := make(map[string]map[uint64]bool)
	for i, e := range gs.History {
		u, ok := users[e.UserId]
		if !ok {
			return errors.Wrapf(ErrInvalidGenesis, "history[%d]: unknown user %s", i, e.UserId)
		}
		if e.Seq >= u.Seq {
			return errors.Wrapf(ErrInvalidGenesis, "history[%d]: seq %d not below user %s seq %d", i, e.Seq, e.UserId, u.Seq)
		}
		if seen[e.UserId] == nil {
			seen[e.UserId] = make(map[uint64]bool)
		}
		if seen[e.UserId][e.Seq] {
			return errors.Wrapf(ErrInvalidGenesis, "history[%d]: duplicate seq %d for %s", i, e.Seq, e.UserId)
		}
		seen[e.UserId][e.Seq] = true
		if e.Op == Op_OP_UNSPECIFIED {
			return errors.Wrapf(ErrInvalidGenesis, "history[%d]: op unspecified", i)
		}
	}
	for id, u := range users {
		if uint64(len(seen[id])) != u.Seq {
			return errors.Wrapf(ErrInvalidGenesis, "user %s: seq %d but %d history entries", id, u.Seq, len(seen[id]))
		}
	}
	return nil
}
