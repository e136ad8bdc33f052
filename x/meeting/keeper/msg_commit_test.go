package keeper_test

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

// rosterOf is the canonical roster of ds: sorted, with the SHA-256 of
// their ephemeral keys.
func rosterOf(ds ...dev) []types.Member {
	ms := make([]types.Member, len(ds))
	for i, d := range ds {
		h := sha256.Sum256(d.eph)
		ms[i] = types.Member{UserId: d.user, DeviceId: d.id, EphPkHash: h[:]}
	}
	types.SortMembers(ms)
	return ms
}

func TestCommitEpoch(t *testing.T) {
	w := newWorld(t)
	f := w.f
	for _, d := range []dev{w.bob, w.carol, w.dave} {
		require.NoError(t, w.request(w.mid, d))
	}
	f.ResetEvents()

	// Epoch 1 admits carol and bob (given out of order) with the leader.
	members := []types.MemberRef{w.carol.ref(), w.alice.ref(), w.bob.ref()}
	res, err := f.Msg.CommitEpoch(f.Ctx, f.CommitEpochMsg(w.mid, 1, members, mtest.Commitment(1), types.Reason_REASON_JOIN, w.alice.key))
	require.NoError(t, err)
	want := rosterOf(w.alice, w.bob, w.carol)
	require.Equal(t, "alice", want[0].UserId)
	hash := types.RosterHash(w.mid, want)
	require.Equal(t, &types.MsgCommitEpochResponse{RosterHash: hash, Epoch: 1}, res)

	e, err := f.Keeper.Epochs.Get(f.Ctx, collections.Join(w.mid, uint64(1)))
	require.NoError(t, err)
	require.Equal(t, types.Epoch{
		MeetingId: w.mid, Epoch: 1, Members: want, RosterHash: hash, KeyCommitment: mtest.Commitment(1),
		Reason: types.Reason_REASON_JOIN, Height: mtest.Height, LeaderUser: "alice", LeaderDevice: "phone",
	}, e)
	m := w.meeting(t, w.mid)
	require.EqualValues(t, 1, m.Epoch)
	require.Equal(t, hash, m.RosterHash)
	require.Equal(t, mtest.Commitment(1), m.KeyCommitment)
	for _, d := range []dev{w.alice, w.bob, w.carol} {
		require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, w.mid, d))
	}
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, w.status(t, w.mid, w.dave))
	evs := mtest.Events[*types.EventEpochCommitted](t, f)
	require.Len(t, evs, 1)
	require.Equal(t, "parley.meeting.v1.EventEpochCommitted", f.Ctx.EventManager().Events()[0].Type)
	require.Equal(t, &types.EventEpochCommitted{
		MeetingId: w.mid, Epoch: 1, Members: []*types.Member{&want[0], &want[1], &want[2]}, RosterHash: hash,
		KeyCommitment: mtest.Commitment(1), Reason: types.Reason_REASON_JOIN, LeaderUser: "alice", LeaderDevice: "phone",
	}, evs[0])
	mtest.CheckInvariants(t, f)

	// bob leaves (a rekey is due); epoch 2 admits dave without bob.
	require.NoError(t, w.leave(w.mid, w.bob))
	require.EqualValues(t, mtest.Height, w.meeting(t, w.mid).RekeyDueHeight)
	f.NextBlock(1)
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_LEAVE, w.alice, w.carol, w.dave))
	m = w.meeting(t, w.mid)
	require.EqualValues(t, 0, m.RekeyDueHeight)
	require.Equal(t, types.RosterHash(w.mid, rosterOf(w.alice, w.carol, w.dave)), m.RosterHash)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_LEFT, w.status(t, w.mid, w.bob))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, w.mid, w.dave))
	mtest.CheckInvariants(t, f)

	// Epoch 3 removes carol.
	f.ResetEvents()
	require.NoError(t, w.commit(w.mid, 3, w.alice, types.Reason_REASON_REMOVE, w.alice, w.dave))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_REMOVED, w.status(t, w.mid, w.carol))
	require.Equal(t, []*types.EventMemberRemoved{{MeetingId: w.mid, Epoch: 3, UserId: "carol", DeviceId: "laptop"}},
		mtest.Events[*types.EventMemberRemoved](t, f))
	has, err := f.Keeper.MemberIndex.Has(f.Ctx, collections.Join("carol", w.mid))
	require.NoError(t, err)
	require.False(t, has, "a removed member stays in MemberIndex")
	mtest.CheckInvariants(t, f)

	// A removed member is not put back without a new request...
	before := snapshot(t, f)
	err = w.commit(w.mid, 4, w.alice, types.Reason_REASON_JOIN, w.alice, w.dave, w.carol)
	requireRejected(t, f, before, err, types.ErrNoRequest)
	// ...and is with one, under its new key.
	eph, _ := f.EphKey(t)
	w.carol.eph = eph
	require.NoError(t, w.request(w.mid, w.carol))
	require.NoError(t, w.commit(w.mid, 4, w.alice, types.Reason_REASON_JOIN, w.alice, w.dave, w.carol))
	require.Equal(t, types.RosterHash(w.mid, rosterOf(w.alice, w.carol, w.dave)), w.meeting(t, w.mid).RosterHash)
	mtest.CheckInvariants(t, f)
}

// The rotation case: the same roster under a new key.
func TestCommitEpochRotate(t *testing.T) {
	w := newWorld(t).withRoster(t)
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_ROTATE, w.alice, w.bob, w.carol))
	m := w.meeting(t, w.mid)
	require.EqualValues(t, 2, m.Epoch)
	require.Equal(t, mtest.Commitment(2), m.KeyCommitment)
	mtest.CheckInvariants(t, w.f)
}

func TestCommitEpochRejected(t *testing.T) {
	small := mtest.NewMeetingID(4)
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgCommitEpoch
		want  error
	}{
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(mtest.NewMeetingID(99), 2, w.alice, w.alice, w.bob)
		}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid[:8], 2, w.alice, w.alice, w.bob)
		}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			setup: func(t *testing.T, w *world) { w.end(t, w.mid) },
			msg:   func(w *world) *types.MsgCommitEpoch { return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob) }},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg:   func(w *world) *types.MsgCommitEpoch { return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob) }},
		{name: "signed by another member's device", want: types.ErrNotLeader, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.bob, w.alice, w.bob)
		}},
		{name: "signed by the leader user's other device", want: types.ErrNotLeader, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.tablet, w.alice, w.bob)
		}},
		{name: "signed for another chain", want: types.ErrNotLeader, msg: func(w *world) *types.MsgCommitEpoch {
			return signedElsewhere(w.f, func() *types.MsgCommitEpoch { return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob) })
		}},
		{name: "signature over another member order", want: types.ErrNotLeader, msg: func(w *world) *types.MsgCommitEpoch {
			msg := w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob)
			msg.Members[0], msg.Members[1] = msg.Members[1], msg.Members[0]
			return msg
		}},
		{name: "skipped epoch", want: types.ErrWrongEpoch, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 3, w.alice, w.alice, w.bob)
		}},
		{name: "repeated epoch", want: types.ErrWrongEpoch, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 1, w.alice, w.alice, w.bob)
		}},
		{name: "member without a request", want: types.ErrNoRequest, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.alice, w.alice, w.erin1)
		}},
		{name: "member that left", want: types.ErrNoRequest,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.leave(w.mid, w.bob)) },
			msg:   func(w *world) *types.MsgCommitEpoch { return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob) }},
		{name: "admitted member whose device was revoked", want: types.ErrNoRequest,
			setup: func(t *testing.T, w *world) {
				w.withTablet(t)
				w.f.RevokeDevice(t, "alice", "tablet", "phone", w.alice.key)
			},
			msg: func(w *world) *types.MsgCommitEpoch { return w.commitMsg(w.mid, 3, w.alice, w.alice, w.tablet) }},
		{name: "pending member whose device was revoked", want: types.ErrNoRequest,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.request(w.mid, w.erin2))
				w.f.RevokeDevice(t, "erin", "two", "one", w.erin1.key)
			},
			msg: func(w *world) *types.MsgCommitEpoch { return w.commitMsg(w.mid, 2, w.alice, w.alice, w.erin2) }},
		{name: "roster over the policy limit", want: types.ErrRosterTooLarge,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.create(small, w.alice, types.Policy{MaxParticipants: 2}))
				require.NoError(t, w.request(small, w.bob))
				require.NoError(t, w.request(small, w.carol))
			},
			msg: func(w *world) *types.MsgCommitEpoch { return w.commitMsg(small, 1, w.alice, w.alice, w.bob, w.carol) }},
		{name: "roster over the module maximum", want: types.ErrRosterTooLarge,
			setup: func(t *testing.T, w *world) {
				p := types.DefaultParams()
				p.MaxParticipants = 3
				w.f.SetParams(t, p)
			},
			msg: func(w *world) *types.MsgCommitEpoch {
				return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob, w.carol, w.dave)
			}},
		{name: "duplicate member", want: types.ErrInvalidRoster, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob, w.bob)
		}},
		{name: "missing leader", want: types.ErrInvalidRoster, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.alice, w.bob, w.carol)
		}},
		{name: "empty roster", want: types.ErrInvalidRoster, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitMsg(w.mid, 2, w.alice)
		}},
		{name: "commitment of 31 bytes", want: types.ErrInvalidCommitment, msg: func(w *world) *types.MsgCommitEpoch {
			return w.f.CommitEpochMsg(w.mid, 2, refs(w.alice, w.bob), mtest.Commitment(2)[:31], types.Reason_REASON_ROTATE, w.alice.key)
		}},
		{name: "commitment of 33 bytes", want: types.ErrInvalidCommitment, msg: func(w *world) *types.MsgCommitEpoch {
			return w.f.CommitEpochMsg(w.mid, 2, refs(w.alice, w.bob), append(mtest.Commitment(2), 0), types.Reason_REASON_ROTATE, w.alice.key)
		}},
		{name: "unspecified reason", want: types.ErrInvalidReason, msg: func(w *world) *types.MsgCommitEpoch {
			return w.f.CommitEpochMsg(w.mid, 2, refs(w.alice, w.bob), mtest.Commitment(2), types.Reason_REASON_UNSPECIFIED, w.alice.key)
		}},
		{name: "unknown reason", want: types.ErrInvalidReason, msg: func(w *world) *types.MsgCommitEpoch {
			return w.f.CommitEpochMsg(w.mid, 2, refs(w.alice, w.bob), mtest.Commitment(2), types.Reason(99), w.alice.key)
		}},
		// A lying node showed the leader a forged key for dave's request:
		// the leader's roster hash is not the chain's.
		{name: "roster hash over a forged key", want: types.ErrRosterHashMismatch, msg: func(w *world) *types.MsgCommitEpoch {
			forged := w.dave
			forged.eph = w.erin1.eph
			return w.commitWithHash(types.RosterHash(w.mid, rosterOf(w.alice, w.bob, forged)), w.alice, w.bob, w.dave)
		}},
		{name: "roster hash of other members", want: types.ErrRosterHashMismatch, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitWithHash(types.RosterHash(w.mid, rosterOf(w.alice, w.bob)), w.alice, w.bob, w.dave)
		}},
		{name: "roster hash of another meeting", want: types.ErrRosterHashMismatch, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitWithHash(types.RosterHash(mtest.NewMeetingID(99), rosterOf(w.alice, w.bob, w.dave)), w.alice, w.bob, w.dave)
		}},
		{name: "roster hash empty", want: types.ErrRosterHashMismatch, msg: func(w *world) *types.MsgCommitEpoch {
			return w.commitWithHash(nil, w.alice, w.bob, w.dave)
		}},
		{name: "roster hash changed after signing", want: types.ErrNotLeader, msg: func(w *world) *types.MsgCommitEpoch {
			msg := w.commitMsg(w.mid, 2, w.alice, w.alice, w.bob)
			msg.RosterHash = types.RosterHash(w.mid, rosterOf(w.alice))
			return msg
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			msg := tc.msg(w)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.CommitEpoch(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// commitMsg is the leader's commit of epoch with members, signed by signer.
func (w *world) commitMsg(id []byte, epoch uint64, signer dev, members ...dev) *types.MsgCommitEpoch {
	return w.f.CommitEpochMsg(id, epoch, refs(members...), mtest.Commitment(int(epoch)), types.Reason_REASON_ROTATE, signer.key)
}

// commitWithHash is the leader's commit of epoch 2 of mid with members and
// the given roster hash.
func (w *world) commitWithHash(rosterHash []byte, members ...dev) *types.MsgCommitEpoch {
	return w.f.CommitEpochMsgWithHash(w.mid, 2, refs(members...), rosterHash, mtest.Commitment(2), types.Reason_REASON_JOIN, w.alice.key)
}

// withTablet admits alice/tablet in epoch 2 of mid (after withRoster).
func (w *world) withTablet(t *testing.T) {
	t.Helper()
	require.NoError(t, w.request(w.mid, w.tablet))
	require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob, w.carol, w.tablet))
}
