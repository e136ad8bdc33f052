package meeting_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/nettest"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

type member struct {
	dev   meeting.Device
	chain *verify.Client
}

func ref(m member) meetingtypes.MemberRef {
	return meetingtypes.MemberRef{UserId: m.dev.UserID, DeviceId: m.dev.DeviceID}
}

func requireEvent(t *testing.T, res *sdk.TxResponse, typ string) {
	t.Helper()
	require.NotNil(t, res)
	for _, e := range res.Events {
		if e.Type == typ {
			return
		}
	}
	t.Fatalf("tx %s has no %s event", res.TxHash, typ)
}

func commitment(t *testing.T) []byte {
	c := make([]byte, 32)
	_, err := rand.Read(c)
	require.NoError(t, err)
	return c
}

// TestMeetingLifecycleOnChain runs a meeting on a real in-process chain:
// create → 3 requests → commit (admit) → leave → commit (rekey) → revoke a
// member's device → commit → leader timeout → claim → end, checking events
// and queries at each step.
func TestMeetingLifecycleOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	require.NoError(t, err)
	eph := meeting.EphStore{Dir: t.TempDir()}

	register := func(account, user, device string) member {
		k, err := st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
		require.NoError(t, err)
		c := net.Verified(t, account)
		_, err = identity.Register(ctx, c, user, device, k)
		require.NoError(t, err)
		return member{meeting.Device{UserID: user, DeviceID: device, Key: k}, c}
	}
	alice := register("alice", "alice", "laptop")
	bob := register("bob", "bob", "phone")
	carol := register("carol", "carol", "desk")
	dave := register("dave", "dave", "tab")
	q := alice.chain.Meeting()

	// bob's second device, to revoke the phone later
	bobLaptop, err := st.Create("bob", "laptop", nil, keystore.CreateOptions{Unencrypted: true})
	require.NoError(t, err)
	a, err := identity.Approve(ctx, bob.chain, "bob", "phone", bob.dev.Key, "laptop", bobLaptop.PublicKey())
	require.NoError(t, err)
	_, err = identity.AddDevice(ctx, bob.chain, a, bobLaptop)
	require.NoError(t, err)

	// create
	id, res, err := meeting.Create(ctx, alice.chain, eph, alice.dev, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventMeetingCreated")
	byLeader, err := q.MeetingsByLeader(ctx, &meetingtypes.QueryMeetingsByLeaderRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Len(t, byLeader.Meetings, 1)

	// commit is m's commit of the next epoch, with the roster hash
	// computed from the chain's requests as a leader computes it.
	commit := func(m member, refs []meetingtypes.MemberRef, c []byte, reason meetingtypes.Reason) (uint64, *sdk.TxResponse, error) {
		return meeting.CommitNext(ctx, m.chain, m.dev, id, refs, c, reason)
	}

	// 3 requests
	for _, m := range []member{bob, carol, dave} {
		res, err := meeting.Request(ctx, m.chain, eph, m.dev, id, nil)
		require.NoError(t, err)
		requireEvent(t, res, "parley.meeting.v1.EventJoinRequested")
	}
	_, err = meeting.Request(ctx, dave.chain, eph, dave.dev, id, nil)
	require.ErrorContains(t, err, "already has a")
	pending, err := q.JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: id, Status: meetingtypes.RequestStatus_REQUEST_STATUS_PENDING})
	require.NoError(t, err)
	require.Len(t, pending.Requests, 3)

	// a non-leader cannot commit
	_, _, err = commit(bob, []meetingtypes.MemberRef{ref(alice), ref(bob)}, commitment(t), meetingtypes.Reason_REASON_JOIN)
	require.ErrorContains(t, err, "not the meeting's leader")

	// commit epoch 1: admit everyone
	c1 := commitment(t)
	epoch, res, err := commit(alice,
		[]meetingtypes.MemberRef{ref(dave), ref(alice), ref(carol), ref(bob)}, c1, meetingtypes.Reason_REASON_JOIN)
	require.NoError(t, err)
	require.EqualValues(t, 1, epoch)
	requireEvent(t, res, "parley.meeting.v1.EventEpochCommitted")
	e1, err := q.Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: id})
	require.NoError(t, err)
	require.Len(t, e1.Epoch.Members, 4)
	require.Equal(t, "alice", e1.Epoch.Members[0].UserId) // canonical order
	require.Equal(t, meetingtypes.RosterHash(id, e1.Epoch.Members), e1.Epoch.RosterHash)
	require.True(t, bytes.Equal(c1, e1.Epoch.KeyCommitment))
	byUser, err := q.MeetingsByUser(ctx, &meetingtypes.QueryMeetingsByUserRequest{UserId: "carol"})
	require.NoError(t, err)
	require.Len(t, byUser.Meetings, 1)

	// carol rotates her key: the old one stays current in her store until
	// she promotes the new one, and a commit over the old key is refused
	oldCarol, err := eph.Load(id, carol.dev)
	require.NoError(t, err)
	res, newCarol, err := meeting.RotateEphKey(ctx, carol.chain, eph, carol.dev, id)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventEphKeyRotated")
	cur, err := eph.Load(id, carol.dev)
	require.NoError(t, err)
	require.Equal(t, oldCarol.PublicKey().Bytes(), cur.PublicKey().Bytes())
	next, err := eph.LoadNext(id, carol.dev)
	require.NoError(t, err)
	require.Equal(t, newCarol.PublicKey().Bytes(), next.PublicKey().Bytes())
	_, err = meeting.Commit(ctx, alice.chain, alice.dev, id, e1.Epoch.Epoch+1, []meetingtypes.MemberRef{ref(alice), ref(bob), ref(carol), ref(dave)},
		e1.Epoch.RosterHash, commitment(t), meetingtypes.Reason_REASON_ROTATE)
	require.ErrorContains(t, err, "roster hash does not match")
	require.NoError(t, eph.Promote(id, carol.dev))

	// dave leaves: a rekey is due; commit epoch 2 without him
	res, err = meeting.Leave(ctx, dave.chain, eph, dave.dev, id)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventRekeyDue")
	m, err := q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
	require.NoError(t, err)
	require.NotZero(t, m.Meeting.RekeyDueHeight)
	_, res, err = commit(alice,
		[]meetingtypes.MemberRef{ref(alice), ref(bob), ref(carol)}, commitment(t), meetingtypes.Reason_REASON_LEAVE)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventEpochCommitted")
	m, err = q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
	require.NoError(t, err)
	require.Zero(t, m.Meeting.RekeyDueHeight)
	require.EqualValues(t, 2, m.Meeting.Epoch)

	// a member who left cannot be put back without a new request
	_, _, err = commit(alice,
		[]meetingtypes.MemberRef{ref(alice), ref(bob), ref(carol), ref(dave)}, commitment(t), meetingtypes.Reason_REASON_JOIN)
	require.ErrorContains(t, err, "no pending or admitted request")

	// bob's phone is revoked: the hook makes a rekey due; commit without it
	res, err = identity.Revoke(ctx, bob.chain, "bob", "phone", "laptop", bobLaptop)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventRekeyDue")
	_, res, err = commit(alice,
		[]meetingtypes.MemberRef{ref(alice), ref(carol)}, commitment(t), meetingtypes.Reason_REASON_REVOKE)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventMemberRemoved")
	removed, err := q.JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: id, Status: meetingtypes.RequestStatus_REQUEST_STATUS_REMOVED})
	require.NoError(t, err)
	require.Len(t, removed.Requests, 1)
	require.Equal(t, "bob", removed.Requests[0].UserId)

	// dave comes back with a new request and is admitted in epoch 4
	_, err = meeting.Request(ctx, dave.chain, eph, dave.dev, id, nil)
	require.NoError(t, err)
	_, _, err = commit(alice,
		[]meetingtypes.MemberRef{ref(alice), ref(carol), ref(dave)}, commitment(t), meetingtypes.Reason_REASON_JOIN)
	require.NoError(t, err)

	// dave leaves again and the leader does nothing: carol (first in line)
	// may claim, but only after leader_timeout_blocks
	_, err = meeting.Leave(ctx, dave.chain, eph, dave.dev, id)
	require.NoError(t, err)
	_, err = meeting.Claim(ctx, carol.chain, eph, carol.dev, id)
	require.ErrorContains(t, err, "before the leader timed out")
	params, err := q.Params(ctx, &meetingtypes.QueryParamsRequest{})
	require.NoError(t, err)
	m, err = q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
	require.NoError(t, err)
	_, err = net.WaitForHeightWithTimeout(m.Meeting.RekeyDueHeight+int64(params.Params.LeaderTimeoutBlocks), time.Minute)
	require.NoError(t, err)
	res, err = meeting.Claim(ctx, carol.chain, eph, carol.dev, id)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventLeaderChanged")
	m, err = q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
	require.NoError(t, err)
	require.Equal(t, "carol", m.Meeting.LeaderUser)

	// the new leader rekeys, then ends the meeting
	epoch, _, err = commit(carol,
		[]meetingtypes.MemberRef{ref(alice), ref(carol)}, commitment(t), meetingtypes.Reason_REASON_LEADER)
	require.NoError(t, err)
	require.EqualValues(t, 5, epoch)
	res, err = meeting.End(ctx, carol.chain, eph, carol.dev, id)
	require.NoError(t, err)
	requireEvent(t, res, "parley.meeting.v1.EventMeetingEnded")
	m, err = q.Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
	require.NoError(t, err)
	require.Equal(t, meetingtypes.Status_STATUS_ENDED, m.Meeting.Status)
	_, err = meeting.Request(ctx, bob.chain, eph, meeting.Device{UserID: "bob", DeviceID: "laptop", Key: bobLaptop}, id, nil)
	require.ErrorContains(t, err, "meeting has ended")
	epochs, err := q.Epochs(ctx, &meetingtypes.QueryEpochsRequest{MeetingId: id})
	require.NoError(t, err)
	require.Len(t, epochs.Epochs, 5)
	byLeader, err = q.MeetingsByLeader(ctx, &meetingtypes.QueryMeetingsByLeaderRequest{UserId: "carol"})
	require.NoError(t, err)
	require.Empty(t, byLeader.Meetings)
}
