package meeting_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify/verifytest"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// TestEarlyEpochLieCaught: a member installs an epoch from the newest
// block, before the header that proves it (early.go), and its node lies
// in that tentative read — a field of the epoch record no envelope binds.
// The confirmation a block later catches it, names the node and leaves it;
// the epoch read again through the honest node is the one installed, so
// the call goes on, on the leader's key. The lie could not have changed
// the key: a forged roster hash or commitment does not open the envelope.
func TestEarlyEpochLieCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	liar := verifytest.NewLiar(t, h.net.RPC)
	alice, bob := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone", liar.Addr, h.net.RPC)
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	epochKey, err := meetingtypes.EpochStoreKey(id, 1)
	require.NoError(t, err)
	liar.Lie("reason", func(c *verifytest.Call) bool {
		if !c.IsStoreQuery(meetingtypes.StoreKey, epochKey) {
			return false
		}
		var e meetingtypes.Epoch
		if e.Unmarshal(c.QueryValue()) != nil || e.Epoch != 1 {
			return false
		}
		e.Reason = meetingtypes.Reason_REASON_REVOKE
		bz, _ := e.Marshal()
		c.SetQueryValue(bz)
		return true
	})

	// bob asks and runs before alice's session commits the first epoch,
	// so that his first read of it is the early, tentative one.
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(bob, id, nil)
	h.run(alice, id, nil)
	waitFor(t, "alice and bob on one epoch with one key", func() bool { return onOneKey(alice, bob) })
	waitFor(t, "bob to confirm the epoch and report the lie", func() bool { return goesOn(bob.rec.problems(), liar.Addr) })
	require.Positive(t, liar.Told("reason"), "the node lied")
	require.True(t, bob.fo.any(liar.Addr+" -> "+h.net.RPC), "bob left the lying node: %v", bob.fo.seen)
	require.Equal(t, alice.s.Code(), bob.s.Code())
	select {
	case err := <-bob.done:
		t.Fatalf("bob's session ended: %v", err)
	default:
	}
}

// TestEarlyCommitLieCaught: the leader seals and installs once its commit
// is in a block, as its node says, and proves the commit's outcome a block
// later. Its node lies about the block the commit is in; the proof
// through the next node catches it, and the epoch read again with a proof
// is the one installed, so the leader goes on leading and the member has
// its key.
func TestEarlyCommitLieCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	liar := verifytest.NewLiar(t, h.net.RPC)
	alice, bob := h.device("alice", "alice", "laptop", liar.Addr, h.net.RPC), h.device("bob", "bob", "phone")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	// From now on the node says every transaction is a block earlier
	// than it is (a block that exists, so that its answer reads well).
	liar.Lie("height", func(c *verifytest.Call) bool {
		if c.Method != "tx" || c.Result == nil {
			return false
		}
		n := c.Int(c.Result, "height")
		if n <= 2 {
			return false
		}
		c.Result["height"] = fmt.Sprint(n - 1)
		return true
	})
	h.run(alice, id, nil)
	h.run(bob, id, nil)
	waitFor(t, "alice and bob on one epoch with one key", func() bool { return onOneKey(alice, bob) })
	waitFor(t, "alice to prove her commit and report the lie", func() bool { return goesOn(alice.rec.problems(), liar.Addr) })
	require.Positive(t, liar.Told("height"), "the node lied")
	require.True(t, alice.fo.any(liar.Addr+" -> "+h.net.RPC), "alice left the lying node: %v", alice.fo.seen)
	select {
	case err := <-alice.done:
		t.Fatalf("alice's session ended: %v", err)
	default:
	}
}

// goesOn says whether a lie of node about an early epoch was reported,
// naming it, with the call going on.
func goesOn(problems []meeting.EventProblem, node string) bool {
	for _, p := range problems {
		msg := p.Err.Error()
		if errors.Is(p.Err, chain.ErrBadAnswer) && strings.Contains(msg, "node "+node+":") && strings.Contains(msg, "the call goes on") {
			return true
		}
	}
	return false
}
