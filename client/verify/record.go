package verify

import (
	"context"
	"fmt"
)

// record is a protobuf state record as collections store it.
type record[T any] interface {
	*T
	Unmarshal([]byte) error
}

// read reads and decodes one record of store at key (keyErr: the store
// key could not be built from the IDs asked for).
func read[T any, P record[T]](ctx context.Context, s *Snapshot, store, what string, key []byte, keyErr error) (T, error) {
	var v T
	if keyErr != nil {
		return v, fmt.Errorf("%s: %w", what, keyErr)
	}
	bz, err := s.get(ctx, store, what, key)
	if err != nil {
		return v, err
	}
	if err := P(&v).Unmarshal(bz); err != nil {
		return v, fmt.Errorf("%s: the proven value does not decode: %w", what, err)
	}
	return v, nil
}
