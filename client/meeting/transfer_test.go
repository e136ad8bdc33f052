package meeting_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// TestTransfer: the leader hands the meeting to a member; the new
// leader's running session admits the next joiner and rekeys, and the old
// leader, now a member, installs that epoch. Who tries and fails: a
// member that does not lead (refused before sending, and by the chain
// when it signs the message itself), a transfer to someone outside the
// current epoch, and the first transfer's signature sent again once the
// leadership has moved on.
func TestTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, bob, carol := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone"), h.device("carol", "carol", "tablet")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	h.run(alice, id, nil)
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(bob, id, nil)
	waitFor(t, "bob admitted", func() bool { e, _, err := bob.rec.key(); return err == nil && e > 0 })

	aliceRef := meeting.DeviceRef{User: "alice", Device: "laptop"}
	bobRef := meeting.DeviceRef{User: "bob", Device: "phone"}
	carolRef := meeting.DeviceRef{User: "carol", Device: "tablet"}

	// bob does not lead: his client says so, and a message he signs
	// himself is refused by the chain.
	_, err = meeting.Transfer(ctx, bob.c, bob.d, id, bobRef)
	require.ErrorIs(t, err, meeting.ErrTransfer)
	_, err = meeting.Transfer(ctx, bob.c, bob.d, id, aliceRef)
	require.ErrorIs(t, err, meeting.ErrTransfer)
	m := provenMeetingOf(t, ctx, bob, id)
	_, err = bob.c.Broadcast(ctx, &meetingtypes.MsgTransferLeadership{
		Signer: bob.c.Account(), MeetingId: id, NewLeaderUser: "bob", NewLeaderDevice: "phone",
		Sig: bob.d.Key.SignMessage(meetingtypes.TransferSignBytes(h.net.ChainID, id, m.Epoch, m.LeaderChanges, "bob", "phone")),
	})
	require.ErrorIs(t, err, chain.ErrTxFailed, "a transfer signed by a member who does not lead")

	// carol is not in the current epoch.
	_, err = meeting.Transfer(ctx, alice.c, alice.d, id, carolRef)
	require.ErrorIs(t, err, chain.ErrTxFailed, "a transfer to a device outside the current epoch")

	// The real transfer.
	m = provenMeetingOf(t, ctx, alice, id)
	first := &meetingtypes.MsgTransferLeadership{
		Signer: alice.c.Account(), MeetingId: id, NewLeaderUser: "bob", NewLeaderDevice: "phone",
		Sig: alice.d.Key.SignMessage(meetingtypes.TransferSignBytes(h.net.ChainID, id, m.Epoch, m.LeaderChanges, "bob", "phone")),
	}
	_, err = meeting.Transfer(ctx, alice.c, alice.d, id, bobRef)
	require.NoError(t, err)
	m = provenMeetingOf(t, ctx, alice, id)
	require.Equal(t, "bob", m.LeaderUser)
	waitFor(t, "both sessions to tell the handover", func() bool {
		left, led := false, false
		for _, e := range alice.rec.all() {
			if l, ok := e.(meeting.EventLeaderLeft); ok && l.Leader == bobRef {
				left = true
			}
		}
		for _, e := range bob.rec.all() {
			if l, ok := e.(meeting.EventLeader); ok && !l.Claimed {
				led = true
			}
		}
		return left && led
	})

	// bob's session leads now: carol's request is his to admit, and alice
	// installs the epoch he commits.
	before := bob.s.Epoch()
	_, err = meeting.Join(ctx, carol.c, carol.eph, carol.d, id, "")
	require.NoError(t, err)
	h.run(carol, id, nil)
	waitFor(t, "carol admitted by bob, and everyone on one key", func() bool {
		e, _, err := carol.rec.key()
		return err == nil && e > before && alice.s.Epoch() == e && bob.s.Epoch() == e
	})
	require.Equal(t, bob.s.Code(), alice.s.Code())
	require.Equal(t, bob.s.Code(), carol.s.Code())
	carolEp, ok := carol.rec.newestEpoch()
	require.True(t, ok)
	snap, err := carol.c.Reader().At(ctx, carolEp.Height)
	require.NoError(t, err)
	e, err := snap.Epoch(ctx, id, carolEp.Number)
	require.NoError(t, err)
	require.Equal(t, "bob", e.LeaderUser, "the epoch that admitted carol was committed by bob")

	// bob hands it back; alice's first transfer, sent again, is refused:
	// its signature covers the leader-change count it was made at.
	_, err = meeting.Transfer(ctx, bob.c, bob.d, id, aliceRef)
	require.NoError(t, err)
	_, err = alice.c.Broadcast(ctx, first)
	require.ErrorIs(t, err, chain.ErrTxFailed, "a replayed transfer")
	m = provenMeetingOf(t, ctx, alice, id)
	require.Equal(t, "alice", m.LeaderUser)
}

// provenMeetingOf reads the meeting record with a proof through p's client.
func provenMeetingOf(t *testing.T, ctx context.Context, p *hdev, id []byte) meetingtypes.Meeting {
	t.Helper()
	snap, err := p.c.Reader().Latest(ctx)
	require.NoError(t, err)
	m, err := snap.Meeting(ctx, id)
	require.NoError(t, err)
	return m
}
