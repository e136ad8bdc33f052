package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

// Every device signature is on chain for anyone to copy. A signature must
// therefore authorise one action only: once it has been used, sending the
// same message again must fail, however the meeting has moved on since.
// Each case below uses a message once, lets the meeting move on in a way
// any client may, then replays the message byte for byte.
func TestSignedMessagesCannotBeReplayed(t *testing.T) {
	cases := []struct {
		name string
		// want is the error that stops the replay.
		want error
		// run sends the original message, moves on, and returns the replay.
		run func(t *testing.T, w *world) func() error
	}{
		// The leave is signed over the key of the request it ends.
		{"leave after the device rejoined", identitytypes.ErrInvalidSignature, func(t *testing.T, w *world) func() error {
			f := w.f
			leave := f.LeaveMsg(w.mid, "bob", "desk", w.bob.key)
			_, err := f.Msg.Leave(f.Ctx, leave)
			require.NoError(t, err)
			eph, _ := f.EphKey(t)
			w.bob.eph = eph
			require.NoError(t, w.request(w.mid, w.bob))
			require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob, w.carol))
			return func() error { _, err := f.Msg.Leave(f.Ctx, leave); return err }
		}},
		// A request's key is single-use in its meeting.
		{"join request after the device left", types.ErrEphKeyReused, func(t *testing.T, w *world) func() error {
			f := w.f
			req := f.RequestJoinMsg(w.mid, "erin", "one", w.erin1.key, w.erin1.eph, nil)
			_, err := f.Msg.RequestJoin(f.Ctx, req)
			require.NoError(t, err)
			require.NoError(t, w.leave(w.mid, w.erin1))
			return func() error { _, err := f.Msg.RequestJoin(f.Ctx, req); return err }
		}},
		{"join request after the leader removed the device", types.ErrEphKeyReused, func(t *testing.T, w *world) func() error {
			f := w.f
			req := f.RequestJoinMsg(w.mid, "erin", "one", w.erin1.key, w.erin1.eph, nil)
			_, err := f.Msg.RequestJoin(f.Ctx, req)
			require.NoError(t, err)
			require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_JOIN, w.alice, w.bob, w.carol, w.erin1))
			require.NoError(t, w.commit(w.mid, 3, w.alice, types.Reason_REASON_REMOVE, w.alice, w.bob, w.carol))
			return func() error { _, err := f.Msg.RequestJoin(f.Ctx, req); return err }
		}},
		// A transfer is signed over the count of leader changes.
		{"transfer after leadership came back", types.ErrNotLeader, func(t *testing.T, w *world) func() error {
			f := w.f
			toBob := f.TransferLeadershipMsg(w.mid, 1, "bob", "desk", w.alice.key)
			_, err := f.Msg.TransferLeadership(f.Ctx, toBob)
			require.NoError(t, err)
			_, err = f.Msg.TransferLeadership(f.Ctx, f.TransferLeadershipMsg(w.mid, 1, "alice", "phone", w.bob.key))
			require.NoError(t, err)
			return func() error { _, err := f.Msg.TransferLeadership(f.Ctx, toBob); return err }
		}},
		// A claim is signed over the count of leader changes (and its key
		// is single-use).
		{"claim after leadership moved on", identitytypes.ErrInvalidSignature, func(t *testing.T, w *world) func() error {
			f := w.f
			f.NextBlock(1)
			f.RevokeDevice(t, "alice", "phone", "tablet", w.tablet.key)
			f.NextBlock(types.DefaultLeaderTimeoutBlocks)
			eph, _ := f.EphKey(t)
			claim := f.ClaimLeadershipMsg(w.mid, 1, "bob", "desk", eph, w.bob.key)
			_, err := f.Msg.ClaimLeadership(f.Ctx, claim)
			require.NoError(t, err)
			_, err = f.Msg.TransferLeadership(f.Ctx, f.TransferLeadershipMsg(w.mid, 1, "carol", "laptop", w.bob.key))
			require.NoError(t, err)
			// carol leaves the due rekey undone too; bob is first in line again.
			f.NextBlock(types.DefaultLeaderTimeoutBlocks)
			return func() error { _, err := f.Msg.ClaimLeadership(f.Ctx, claim); return err }
		}},
		// A rotation is signed over the key it replaces, which is
		// single-use.
		{"rotation after the device rotated again", identitytypes.ErrInvalidSignature, func(t *testing.T, w *world) func() error {
			f := w.f
			eph, _ := f.EphKey(t)
			rotate := f.RotateEphKeyMsg(w.mid, "bob", "desk", w.bob.key, eph)
			_, err := f.Msg.RotateEphKey(f.Ctx, rotate)
			require.NoError(t, err)
			next, _ := f.EphKey(t)
			require.NoError(t, w.rotate(w.mid, w.bob, next))
			return func() error { _, err := f.Msg.RotateEphKey(f.Ctx, rotate); return err }
		}},
		// A creation is valid until its valid_until, and the meeting is
		// not pruned before then.
		{"create after the meeting was pruned", types.ErrSignatureExpired, func(t *testing.T, w *world) func() error {
			f := w.f
			setParams(t, f, func(p *types.Params) { p.RetentionBlocks = 0 })
			id := mtest.NewMeetingID(7)
			create := f.CreateMeetingMsg(id, "carol", "laptop", w.carol.key, w.carol.eph, types.Policy{}, duration)
			_, err := f.Msg.CreateMeeting(f.Ctx, create)
			require.NoError(t, err)
			w.end(t, id)
			for blocks := 1; ; blocks++ {
				require.Less(t, blocks, 200, "the ended meeting was never pruned")
				now := f.Ctx.BlockTime().Unix()
				f.NextBlock(1)
				has, err := f.Keeper.Meetings.Has(f.Ctx, id)
				require.NoError(t, err)
				if !has {
					require.GreaterOrEqual(t, now, create.ValidUntil, "pruned while the creation signature was valid")
					break
				}
			}
			return func() error { _, err := f.Msg.CreateMeeting(f.Ctx, create); return err }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			replay := tc.run(t, w)
			mtest.CheckInvariants(t, w.f)
			before := snapshot(t, w.f)
			err := replay()
			require.Error(t, err, "a replayed signature was accepted")
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
