package meeting_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/meeting"
)

// TestRemovalSticks: a removed member that asks to join again with the
// same invite is not let back in, even in a meeting that admits
// everyone: the leader is told it was removed earlier, and only an
// explicit re-admission lets it in. The removal is kept in the leader's
// control directory, so a restarted leader session keeps it too.
func TestRemovalSticks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, bob := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	ctl := meeting.ControlOf(alice.eph, id)
	leaderCfg := func(c *meeting.Config) { c.Control = &ctl } // Admit nil: everyone is admitted
	h.run(alice, id, leaderCfg)
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(bob, id, nil)
	waitFor(t, "bob admitted", func() bool { e, _, err := bob.rec.key(); return err == nil && e > 0 })

	alice.s.Remove("bob", "phone")
	require.ErrorIs(t, bob.ended(t, 30*time.Second), meeting.ErrRemoved)
	// The epoch that removed bob, as bob proved it (alice's own session
	// may not have installed it yet at this instant).
	var removedAt uint64
	for _, e := range bob.rec.all() {
		if r, ok := e.(meeting.EventRemoved); ok {
			removedAt = r.Epoch
		}
	}
	require.NotZero(t, removedAt, "bob was told the epoch that removed him")

	// The leader restarts (its removal is on disk), and bob asks again.
	alice.stop()
	<-alice.done
	h.run(alice, id, leaderCfg)
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(bob, id, nil)
	waitFor(t, "the leader told that bob, removed earlier, asks again", func() bool {
		for _, e := range alice.rec.all() {
			if r, ok := e.(meeting.EventRemovedAsks); ok && r.Device == (meeting.DeviceRef{User: "bob", Device: "phone"}) {
				return true
			}
		}
		return false
	})
	require.True(t, alice.s.RemovedEarlier("bob", "phone"))
	// Several blocks pass: bob is still out.
	time.Sleep(2 * time.Second)
	_, _, err = bob.rec.key()
	require.Error(t, err, "bob got a key without being let back in")
	require.LessOrEqual(t, alice.s.Epoch(), removedAt+1, "no epoch admitted bob")

	// The leader lets bob back in, explicitly.
	alice.s.Readmit("bob", "phone")
	waitFor(t, "bob back in after the explicit re-admission", func() bool {
		e, _, err := bob.rec.key()
		return err == nil && e > removedAt
	})
	require.Equal(t, alice.s.Code(), bob.s.Code())
}
