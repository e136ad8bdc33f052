package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name and store key.
	ModuleName = "meeting"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
	// MeetingIDSize is the length of a meeting ID.
	MeetingIDSize = 16
	// KeyCommitmentSize is the length of a key commitment (HMAC-SHA256).
	KeyCommitmentSize = 32
	// MaxSealedSize bounds the opaque sealed field of a request.
	MaxSealedSize = 2048
)

// Collection prefixes, declared together so none is reused.
var (
	ParamsPrefix       = collections.NewPrefix(1)
	MeetingsPrefix     = collections.NewPrefix(2)
	RequestsPrefix     = collections.NewPrefix(3)
	EpochsPrefix       = collections.NewPrefix(4)
	LeaderIndexPrefix  = collections.NewPrefix(5)
	MemberIndexPrefix  = collections.NewPrefix(6)
	DeviceIndexPrefix  = collections.NewPrefix(7)
	ExpiryQueuePrefix  = collections.NewPrefix(8)
	PendingQueuePrefix = collections.NewPrefix(9)
	PruneQueuePrefix   = collections.NewPrefix(10)
)

// PendingCountPrefix keys the per-meeting pending request counter,
// UsedEphKeysPrefix the ephemeral keys ever used in a meeting and
// RequestLogPrefix the meetings' request logs, UnheldQueuePrefix the
// scheduled meetings not yet held, by their prune deadline.
var (
	PendingCountPrefix = collections.NewPrefix(11)
	UsedEphKeysPrefix  = collections.NewPrefix(12)
	RequestLogPrefix   = collections.NewPrefix(13)
	UnheldQueuePrefix  = collections.NewPrefix(14)
)

// MaxCreateValidity bounds how far ahead a creation signature's
// valid_until may be.
const MaxCreateValidity = 600
