package meeting_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/meeting"
)

// TestScheduledLobby: a device that joins a scheduled meeting before its
// start is told it waits in the lobby; the leader admits it only once the
// chain's block time reaches the start, without a refused commit.
func TestScheduledLobby(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice := h.device("alice", "alice", "laptop")
	bob := h.device("bob", "bob", "phone")
	// Far enough ahead that both sessions run before it on a busy machine.
	start := time.Now().Add(20 * time.Second).Truncate(time.Second)
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour, StartsAt: start})
	require.NoError(t, err)
	h.run(alice, id, nil)
	_, err = meeting.Request(ctx, bob.c, bob.eph, bob.d, id, nil)
	require.NoError(t, err)
	h.run(bob, id, nil)

	lobby := func(r *recorder) bool {
		for _, e := range r.all() {
			if l, ok := e.(meeting.EventLobby); ok && l.Start.Equal(start) {
				return true
			}
		}
		return false
	}
	require.Eventuallyf(t, func() bool { return lobby(bob.rec) && lobby(alice.rec) }, time.Minute, 50*time.Millisecond,
		"lobby not told; alice: %v; bob: %v", alice.rec.all(), bob.rec.all())
	require.Eventuallyf(t, func() bool {
		ep, ok := bob.rec.newestEpoch()
		return ok && len(ep.Members) == 2
	}, time.Minute, 50*time.Millisecond, "bob is not admitted after the start; alice: %v", alice.rec.all())
	require.False(t, time.Now().Before(start), "admitted before the start")
	for _, p := range alice.rec.problems() {
		require.NotContains(t, p.Err.Error(), "has not started", "the leader sent a commit the chain refused")
	}
}
