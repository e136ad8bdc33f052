// Package markset is collections.KeySet for provable state: each key is
// stored with the one-byte value 0x01 instead of an empty value.
//
// Why: a proof that a key is absent (ICS23 non-existence, as the SDK's
// IAVL store gives it) carries existence proofs of the key's two
// neighbours, and ICS23 cannot compute a leaf whose value is empty ("leaf
// op needs value"). A KeySet entry next to a key a client asks about made
// every honest node's proof of that key's absence fail, and the client
// took the node for a liar (client/verify). Every set in the provable
// stores of x/identity and x/meeting is a Set.
//
// Must never: write an entry with an empty value.
package markset

import (
	"context"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/codec"
)

// mark is every entry's value.
var mark = []byte{1}

// Set is a set of keys of type K.
type Set[K any] struct {
	m collections.Map[K, []byte]
}

// New makes a set under prefix, as collections.NewKeySet does.
func New[K any](sb *collections.SchemaBuilder, prefix collections.Prefix, name string, kc codec.KeyCodec[K]) Set[K] {
	return Set[K]{m: collections.NewMap(sb, prefix, name, kc, collections.BytesValue)}
}

// Set adds k.
func (s Set[K]) Set(ctx context.Context, k K) error { return s.m.Set(ctx, k, mark) }

// Has says whether k is in the set.
func (s Set[K]) Has(ctx context.Context, k K) (bool, error) { return s.m.Has(ctx, k) }

// Remove removes k (no error if it is not there).
func (s Set[K]) Remove(ctx context.Context, k K) error { return s.m.Remove(ctx, k) }

// Walk calls fn on each key in rng (nil: all) in order until fn says stop.
func (s Set[K]) Walk(ctx context.Context, rng collections.Ranger[K], fn func(K) (bool, error)) error {
	return s.m.Walk(ctx, rng, func(k K, _ []byte) (bool, error) { return fn(k) })
}

// Map is the set as the map it is stored as (each value 0x01), for
// query.CollectionPaginate.
func (s Set[K]) Map() collections.Map[K, []byte] { return s.m }
