package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name and store key.
	ModuleName = "identity"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes, declared together so none is reused.
var (
	UsersPrefix       = collections.NewPrefix(1)
	DevicesPrefix     = collections.NewPrefix(2)
	HistoryPrefix     = collections.NewPrefix(3)
	OwnerIndexPrefix  = collections.NewPrefix(4)
	ParamsPrefix      = collections.NewPrefix(5)
	PubKeyIndexPrefix = collections.NewPrefix(6)
)
