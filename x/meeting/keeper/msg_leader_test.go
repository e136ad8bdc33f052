package keeper_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func TestTransferLeadership(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	_, err := f.Msg.TransferLeadership(f.Ctx, f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key))
	require.NoError(t, err)
	m := w.meeting(t, w.mid)
	require.Equal(t, []string{"bob", "desk"}, []string{m.LeaderUser, m.LeaderDevice})
	require.Equal(t, w.bob.eph, m.LeaderEphPk)
	require.EqualValues(t, 1, m.LeaderChanges)
	has, err := f.Keeper.LeaderIndex.Has(f.Ctx, collections.Join("alice", w.mid))
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, []*types.EventLeaderChanged{{MeetingId: w.mid, LeaderUser: "bob", LeaderDevice: "desk"}},
		mtest.Events[*types.EventLeaderChanged](t, f))
	mtest.CheckInvariants(t, f)

	// The old leader may no longer commit; the new one may, and alice
	// stays an ordinary member.
	before := snapshot(t, f)
	err = w.commit(w.mid, 2, w.alice, types.Reason_REASON_LEADER, w.alice, w.bob, w.carol)
	requireRejected(t, f, before, err, types.ErrNotLeader)
	require.NoError(t, w.commit(w.mid, 2, w.bob, types.Reason_REASON_LEADER, w.bob, w.carol))
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_REMOVED, w.status(t, w.mid, w.alice))
	mtest.CheckInvariants(t, f)
}

func TestTransferLeadershipRejected(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgTransferLeadership
		want  error
	}{
		{name: "to a pending device", want: types.ErrNotMember, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 1, "dave", "pc", w.alice.key)
		}},
		{name: "to a device without a request", want: types.ErrNotMember, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 1, "erin", "one", w.alice.key)
		}},
		{name: "to a member that left", want: types.ErrNotMember,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.leave(w.mid, w.bob)) },
			msg: func(w *world) *types.MsgTransferLeadership {
				return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
			}},
		{name: "to a member whose device was revoked", want: identitytypes.ErrDeviceRevoked,
			setup: func(t *testing.T, w *world) {
				w.withTablet(t)
				w.f.RevokeDevice(t, "alice", "tablet", "phone", w.alice.key)
			},
			msg: func(w *world) *types.MsgTransferLeadership {
				return w.f.TransferLeadershipMsg(w.mid, 2, "alice", "tablet", w.alice.key)
			}},
		{name: "to the leader itself", want: types.ErrInvalidRoster, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 1, "alice", "phone", w.alice.key)
		}},
		{name: "by a non-leader", want: types.ErrNotLeader, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.bob.key)
		}},
		{name: "signed for a stale epoch", want: types.ErrNotLeader, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 0, "bob", "desk", w.alice.key)
		}},
		{name: "signed for another count of leader changes", want: types.ErrNotLeader, msg: func(w *world) *types.MsgTransferLeadership {
			// The meeting is at epoch 1 with no leader change yet.
			msg := w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
			msg.Sig = ed25519.Sign(w.alice.key, types.TransferSignBytes(w.f.Ctx.ChainID(), w.mid, 1, 1, "bob", "desk"))
			return msg
		}},
		{name: "signed for another chain", want: types.ErrNotLeader, msg: func(w *world) *types.MsgTransferLeadership {
			return signedElsewhere(w.f, func() *types.MsgTransferLeadership {
				return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
			})
		}},
		{name: "bad new leader device_id", want: identitytypes.ErrInvalidDeviceID, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "DESK", w.alice.key)
		}},
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(mtest.NewMeetingID(99), 1, "bob", "desk", w.alice.key)
		}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgTransferLeadership {
			return w.f.TransferLeadershipMsg(w.mid[:15], 1, "bob", "desk", w.alice.key)
		}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			setup: func(t *testing.T, w *world) { w.end(t, w.mid) },
			msg: func(w *world) *types.MsgTransferLeadership {
				return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
			}},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg: func(w *world) *types.MsgTransferLeadership {
				return w.f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
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
			_, err := w.f.Msg.TransferLeadership(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
	t.Run("before the first epoch", func(t *testing.T) {
		w := newWorld(t)
		require.NoError(t, w.request(w.mid, w.bob))
		before := snapshot(t, w.f)
		_, err := w.f.Msg.TransferLeadership(w.f.Ctx, w.f.TransferLeadershipMsg(w.mid, 0, "bob", "desk", w.alice.key))
		requireRejected(t, w.f, before, err, types.ErrNotMember)
	})
}

// leaderRevoked is withRoster with alice's leader device revoked at
// height Height+1, which makes mid rekey-due; bob is first in line.
func leaderRevoked(t *testing.T) *world {
	t.Helper()
	w := newWorld(t).withRoster(t)
	w.f.NextBlock(1)
	w.f.RevokeDevice(t, "alice", "phone", "tablet", w.tablet.key)
	require.EqualValues(t, mtest.Height+1, w.meeting(t, w.mid).RekeyDueHeight)
	w.f.ResetEvents()
	return w
}

func TestClaimLeadership(t *testing.T) {
	w := leaderRevoked(t)
	f := w.f
	// One block short of the timeout, bob is too early.
	f.NextBlock(types.DefaultLeaderTimeoutBlocks - 1)
	eph, _ := f.EphKey(t)
	before := snapshot(t, f)
	_, err := f.Msg.ClaimLeadership(f.Ctx, f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph, w.bob.key))
	requireRejected(t, f, before, err, types.ErrClaimTooEarly)

	f.NextBlock(1)
	height := f.Ctx.BlockHeight()
	require.EqualValues(t, mtest.Height+1+types.DefaultLeaderTimeoutBlocks, height)
	_, err = f.Msg.ClaimLeadership(f.Ctx, f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph, w.bob.key))
	require.NoError(t, err)
	m := w.meeting(t, w.mid)
	require.Equal(t, []string{"bob", "desk"}, []string{m.LeaderUser, m.LeaderDevice})
	require.Equal(t, eph, m.LeaderEphPk)
	require.Equal(t, height, m.RekeyDueHeight, "the new leader gets a full timeout")
	require.EqualValues(t, 1, m.LeaderChanges)
	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.bob))
	require.NoError(t, err)
	require.Equal(t, eph, r.EphPk, "the claimant's request carries its new key")
	require.Equal(t, []*types.EventLeaderChanged{{MeetingId: w.mid, LeaderUser: "bob", LeaderDevice: "desk", Claimed: true}},
		mtest.Events[*types.EventLeaderChanged](t, f))
	mtest.CheckInvariants(t, f)

	// The new leader commits the next epoch without the revoked device.
	w.bob.eph = eph
	require.NoError(t, w.commit(w.mid, 2, w.bob, types.Reason_REASON_LEADER, w.bob, w.carol))
	m = w.meeting(t, w.mid)
	require.EqualValues(t, 0, m.RekeyDueHeight)
	require.Equal(t, types.RosterHash(w.mid, rosterOf(w.bob, w.carol)), m.RosterHash)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_REMOVED, w.status(t, w.mid, w.alice))
	mtest.CheckInvariants(t, f)
}

func TestClaimLeadershipRejected(t *testing.T) {
	timedOut := func(t *testing.T) *world {
		w := leaderRevoked(t)
		w.f.NextBlock(types.DefaultLeaderTimeoutBlocks)
		return w
	}
	// Each case claims with a key new to the meeting unless it is about
	// the key.
	claim := func(w *world, d dev, eph []byte) *types.MsgClaimLeadership {
		return w.f.ClaimLeadershipMsg(w.mid, 1, d.user, d.id, eph, d.key)
	}
	cases := []struct {
		name  string
		world func(t *testing.T) *world
		msg   func(w *world, eph []byte) *types.MsgClaimLeadership
		want  error
	}{
		{name: "before the timeout", want: types.ErrClaimTooEarly, world: leaderRevoked,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.bob, eph) }},
		{name: "with no rekey due", want: types.ErrClaimTooEarly,
			world: func(t *testing.T) *world {
				w := newWorld(t).withRoster(t)
				w.f.NextBlock(types.DefaultLeaderTimeoutBlocks + 1)
				return w
			},
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.bob, eph) }},
		{name: "by a member not first in line", want: types.ErrNotFirstInLine, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.carol, eph) }},
		{name: "by the leader itself", want: types.ErrNotFirstInLine, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.alice, eph) }},
		{name: "by a pending device", want: types.ErrNotFirstInLine, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.dave, eph) }},
		{name: "signed by another member", want: identitytypes.ErrInvalidSignature, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return w.f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph, w.carol.key)
			}},
		{name: "signed for another chain", want: identitytypes.ErrInvalidSignature, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return signedElsewhere(w.f, func() *types.MsgClaimLeadership { return claim(w, w.bob, eph) })
			}},
		{name: "signed for another epoch", want: identitytypes.ErrInvalidSignature, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return w.f.ClaimLeadershipMsg(w.mid, 2, "bob", "desk", eph, w.bob.key)
			}},
		{name: "signed for another count of leader changes", want: identitytypes.ErrInvalidSignature, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				// The meeting is at epoch 1 with no leader change yet.
				msg := claim(w, w.bob, eph)
				msg.Sig = ed25519.Sign(w.bob.key, types.ClaimSignBytes(w.f.Ctx.ChainID(), w.mid, 1, 1, "bob", "desk", eph))
				return msg
			}},
		{name: "with the claimant's current request key", want: types.ErrEphKeyReused, world: timedOut,
			msg: func(w *world, _ []byte) *types.MsgClaimLeadership { return claim(w, w.bob, w.bob.eph) }},
		{name: "with the old leader's key", want: types.ErrEphKeyReused, world: timedOut,
			msg: func(w *world, _ []byte) *types.MsgClaimLeadership { return claim(w, w.bob, w.alice.eph) }},
		{name: "with a pending device's key", want: types.ErrEphKeyReused, world: timedOut,
			msg: func(w *world, _ []byte) *types.MsgClaimLeadership { return claim(w, w.bob, w.dave.eph) }},
		{name: "bad eph_pk", want: types.ErrInvalidEphKey, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return w.f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph[:100], w.bob.key)
			}},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			world: func(t *testing.T) *world { w := timedOut(t); w.expire(t, w.mid); return w },
			msg:   func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.bob, eph) }},
		{name: "unknown meeting", want: types.ErrMeetingNotFound, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return w.f.ClaimLeadershipMsg(mtest.NewMeetingID(99), 1, "bob", "desk", eph, w.bob.key)
			}},
		{name: "bad meeting_id length", want: types.ErrInvalidMeetingID, world: timedOut,
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership {
				return w.f.ClaimLeadershipMsg(append(w.mid, 0), 1, "bob", "desk", eph, w.bob.key)
			}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			world: func(t *testing.T) *world {
				w := timedOut(t) // the leader's device is revoked: the meeting ends by expiry
				w.expire(t, w.mid)
				w.f.NextBlock(1)
				require.Equal(t, types.Status_STATUS_ENDED, w.meeting(t, w.mid).Status)
				return w
			},
			msg: func(w *world, eph []byte) *types.MsgClaimLeadership { return claim(w, w.bob, eph) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.world(t)
			eph, _ := w.f.EphKey(t)
			msg := tc.msg(w, eph)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.ClaimLeadership(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
