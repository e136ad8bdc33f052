package meeting_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify/verifytest"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// failovers records a client's node changes.
type failovers struct {
	mu   sync.Mutex
	seen []string
}

func (f *failovers) add(from, to string, err error) {
	f.mu.Lock()
	f.seen = append(f.seen, from+" -> "+to+": "+err.Error())
	f.mu.Unlock()
}

func (f *failovers) any(substr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.seen {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

// TestLyingNodeServingLeaderAndMember is the worst case of a lying node:
// one node serves both the leader and the joining member, and swaps the
// member's ephemeral key for one of its own in every answer (the swap
// that, unchecked, would have the leader seal the meeting key to the node
// while both sides still showed the same security code). The leader's
// commit over the swapped key is refused by the chain, its tentative
// reads name the node, both clients leave it, the meeting key never goes
// to the node's key, and both end on one key and one code from the
// honest node. A client whose only node lies about the meeting refuses
// to join and names the node.
func TestLyingNodeServingLeaderAndMember(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	net := h.net
	liar := verifytest.NewLiar(t, net.RPC)
	box := h.box
	alice, bob := h.device("alice", "alice", "laptop", liar.Addr, net.RPC), h.device("bob", "bob", "phone", liar.Addr, net.RPC)
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)

	// The node's own ephemeral key, and the lie: bob's request carries it.
	mallory, err := keyschedule.GenerateEphemeralKey()
	require.NoError(t, err)
	malloryPub := mallory.PublicKey().Bytes()
	bobKey, err := meetingtypes.RequestStoreKey(id, "bob", "phone")
	require.NoError(t, err)
	liar.Lie("swap", func(c *verifytest.Call) bool {
		if !c.IsStoreQuery(meetingtypes.StoreKey, bobKey) {
			return false
		}
		var r meetingtypes.JoinRequest
		if r.Unmarshal(c.QueryValue()) != nil || len(r.EphPk) == 0 {
			return false
		}
		r.EphPk = malloryPub
		bz, _ := r.Marshal()
		c.SetQueryValue(bz)
		return true
	})

	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(alice, id, nil)
	h.run(bob, id, nil)
	waitFor(t, "alice and bob on one epoch with one key", func() bool { return onOneKey(alice, bob) })
	reported := false
	for _, p := range alice.rec.problems() {
		reported = reported || errors.Is(p.Err, chain.ErrBadAnswer) && strings.Contains(p.Err.Error(), "join request of bob/phone")
	}
	require.True(t, reported, "the leader reports what the node lied about: %v", alice.rec.problems())
	require.Positive(t, liar.Told("swap"), "the node lied")
	require.Equal(t, alice.s.Code(), bob.s.Code())
	require.True(t, alice.fo.any(liar.Addr+" -> "+net.RPC), "the leader left the lying node: %v", alice.fo.seen)
	require.True(t, bob.fo.any(liar.Addr+" -> "+net.RPC), "the member left the lying node: %v", bob.fo.seen)
	require.Empty(t, box.Posted(keyschedule.EphemeralKeyHash(malloryPub)), "nothing was ever sealed to the node's key")
	require.NotEmpty(t, box.Posted(keyschedule.EphemeralKeyHash(bob.s.EphemeralKey().PublicKey().Bytes())), "bob's key envelope went to bob's own key")

	// A client whose only node lies about the meeting (the leader's key
	// a passcode proof would be sealed to) refuses to join and says why.
	meetingKey := meetingtypes.MeetingStoreKey(id)
	liar.Lie("leader key", func(c *verifytest.Call) bool {
		if !c.IsStoreQuery(meetingtypes.StoreKey, meetingKey) {
			return false
		}
		var m meetingtypes.Meeting
		if m.Unmarshal(c.QueryValue()) != nil {
			return false
		}
		m.LeaderEphPk = malloryPub
		bz, _ := m.Marshal()
		c.SetQueryValue(bz)
		return true
	})
	carol := h.device("carol", "carol", "desk")
	only := h.open("carol", &failovers{}, liar.Addr)
	_, err = meeting.Join(ctx, only, carol.eph, carol.d, id, "")
	require.Positive(t, liar.Told("leader key"))
	require.ErrorIs(t, err, chain.ErrBadAnswer)
	require.Contains(t, err.Error(), liar.Addr, "the error names the lying node")
	require.Contains(t, err.Error(), "meeting", "and what it lied about")
}
