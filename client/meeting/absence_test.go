package meeting_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

// TestAbsenceProvenNextToIndexEntries: an honest node proves that an
// epoch not yet committed is absent, although the key after it in the
// store is an index entry (x/meeting's by-leader index). Index entries
// once had empty values, from which ICS23 cannot build the neighbour's
// proof: every such absence failed to verify, and the client took an
// honest node for a liar and left it.
func TestAbsenceProvenNextToIndexEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice := h.device("alice", "alice", "laptop")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	h.run(alice, id, nil)
	waitFor(t, "epoch 1", func() bool { return alice.s.Epoch() == 1 })
	ep, ok := alice.rec.newestEpoch()
	require.True(t, ok)
	snap, err := alice.c.Reader().At(ctx, ep.Height)
	require.NoError(t, err)
	_, err = snap.Epoch(ctx, id, 1)
	require.NoError(t, err, "epoch 1 is on chain")
	for _, e := range []uint64{2, 3, 1 << 40} {
		_, err = snap.Epoch(ctx, id, e)
		require.ErrorIs(t, err, verify.ErrNotFound, "epoch %d is proven absent", e)
		require.False(t, errors.Is(err, chain.ErrBadAnswer), "an honest node was taken for a liar: %v", err)
	}
	require.Empty(t, alice.fo.seen, "the client left no node")
}
