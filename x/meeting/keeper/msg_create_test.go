package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func TestCreateMeeting(t *testing.T) {
	w := newWorld(t)
	f := w.f
	id := mtest.NewMeetingID(2)
	p := types.Policy{MaxParticipants: 5, Allowlist: []string{"bob", "carol"}, PasscodeRequired: true}
	_, err := f.Msg.CreateMeeting(f.Ctx, f.CreateMeetingMsg(id, w.bob.user, w.bob.id, w.bob.key, w.bob.eph, p, 600))
	require.NoError(t, err)

	m := w.meeting(t, id)
	require.Equal(t, types.Meeting{
		MeetingId: id, LeaderUser: "bob", LeaderDevice: "desk", LeaderEphPk: w.bob.eph, Policy: p,
		Status: types.Status_STATUS_OPEN, CreatedHeight: mtest.Height, ExpiresAt: mtest.StartTime.Unix() + 600,
		// The fixture signs creations valid for 300 s from the block time.
		CreateValidUntil: mtest.StartTime.Unix() + 300,
		RequestSeq:       1,
	}, m)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_ADMITTED, w.status(t, id, w.bob))
	// The leader's request is the first log entry.
	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(id, w.bob))
	require.NoError(t, err)
	require.EqualValues(t, 1, r.Seq)
	e, err := f.Keeper.RequestLog.Get(f.Ctx, collections.Join(id, uint64(1)))
	require.NoError(t, err)
	require.Equal(t, types.RequestLogEntry{UserId: "bob", DeviceId: "desk", Height: mtest.Height, Kind: types.LogKind_LOG_KIND_CREATE}, e)
	has, err := f.Keeper.LeaderIndex.Has(f.Ctx, collections.Join("bob", id))
	require.NoError(t, err)
	require.True(t, has)
	has, err = f.Keeper.ExpiryQueue.Has(f.Ctx, collections.Join(m.ExpiresAt, id))
	require.NoError(t, err)
	require.True(t, has)
	evs := mtest.Events[*types.EventMeetingCreated](t, f)
	require.Len(t, evs, 1)
	require.Equal(t, &types.EventMeetingCreated{MeetingId: id, LeaderUser: "bob", LeaderDevice: "desk", ExpiresAt: m.ExpiresAt}, evs[0])
	mtest.CheckInvariants(t, f)
}

func TestCreateMeetingRejected(t *testing.T) {
	ffff := bytes.Repeat([]byte{0xff}, types.EphKeySize)
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgCreateMeeting
		want  error
	}{
		{name: "meeting_id too short", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2)[:15], "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "meeting_id too long", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(append(mtest.NewMeetingID(2), 0), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "bad user_id", want: identitytypes.ErrInvalidUserID, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "Bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "bad device_id", want: identitytypes.ErrInvalidDeviceID, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "de/sk", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "eph_pk wrong length", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph[:32], types.Policy{}, duration)
		}},
		{name: "eph_pk does not parse", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, ffff, types.Policy{}, duration)
		}},
		{name: "policy of one participant", want: types.ErrInvalidPolicy, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{MaxParticipants: 1}, duration)
		}},
		{name: "policy over the module maximum", want: types.ErrInvalidPolicy, msg: func(w *world) *types.MsgCreateMeeting {
			p := types.Policy{MaxParticipants: types.DefaultMaxParticipants + 1}
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, p, duration)
		}},
		{name: "allowlist longer than the module maximum", want: types.ErrInvalidPolicy,
			setup: func(t *testing.T, w *world) {
				p := types.DefaultParams()
				p.MaxParticipants = 2
				w.f.SetParams(t, p)
			},
			msg: func(w *world) *types.MsgCreateMeeting {
				p := types.Policy{Allowlist: []string{"bob", "carol", "dave"}}
				return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, p, duration)
			}},
		{name: "allowlist duplicate", want: types.ErrInvalidPolicy, msg: func(w *world) *types.MsgCreateMeeting {
			p := types.Policy{Allowlist: []string{"bob", "carol", "bob"}}
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, p, duration)
		}},
		{name: "allowlist bad user_id", want: types.ErrInvalidPolicy, msg: func(w *world) *types.MsgCreateMeeting {
			p := types.Policy{Allowlist: []string{"bob", "-x"}}
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, p, duration)
		}},
		{name: "zero duration", want: types.ErrInvalidDuration, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, 0)
		}},
		{name: "duration over the maximum", want: types.ErrInvalidDuration, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, types.DefaultMaxDurationSeconds+1)
		}},
		{name: "meeting exists", want: types.ErrMeetingExists, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "signed by another device", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.carol.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "signed for another chain", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgCreateMeeting {
			return signedElsewhere(w.f, func() *types.MsgCreateMeeting {
				return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
			})
		}},
		{name: "signature over another duration", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgCreateMeeting {
			msg := w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
			msg.DurationSeconds++
			return msg
		}},
		{name: "signature over another valid_until", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgCreateMeeting {
			msg := w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
			msg.ValidUntil++ // still inside the window: only the signature is wrong
			return msg
		}},
		{name: "valid_until before the block time", want: types.ErrSignatureExpired, msg: func(w *world) *types.MsgCreateMeeting {
			return createValidUntil(w, w.f.Ctx.BlockTime().Unix()-1)
		}},
		{name: "valid_until more than MaxCreateValidity ahead", want: types.ErrSignatureExpired, msg: func(w *world) *types.MsgCreateMeeting {
			return createValidUntil(w, w.f.Ctx.BlockTime().Unix()+types.MaxCreateValidity+1)
		}},
		{name: "valid_until zero", want: types.ErrSignatureExpired, msg: func(w *world) *types.MsgCreateMeeting {
			return createValidUntil(w, 0)
		}},
		{name: "signature expired while waiting for a block", want: types.ErrSignatureExpired,
			setup: func(t *testing.T, w *world) {
				// Signed now, included after its valid_until (300 s later).
				w.pendingCreate = w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
				w.f.NextBlock(300/int(mtest.BlockInterval.Seconds()) + 1)
				require.Greater(t, w.f.Ctx.BlockTime().Unix(), w.pendingCreate.ValidUntil)
			},
			msg: func(w *world) *types.MsgCreateMeeting { return w.pendingCreate }},
		{name: "unknown device", want: identitytypes.ErrDeviceNotFound, msg: func(w *world) *types.MsgCreateMeeting {
			return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "laptop", w.bob.key, w.bob.eph, types.Policy{}, duration)
		}},
		{name: "revoked device", want: identitytypes.ErrDeviceRevoked,
			setup: func(t *testing.T, w *world) { w.f.RevokeDevice(t, "erin", "two", "one", w.erin1.key) },
			msg: func(w *world) *types.MsgCreateMeeting {
				return w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "erin", "two", w.erin2.key, w.erin2.eph, types.Policy{}, duration)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			msg := tc.msg(w)
			before := snapshot(t, w.f)
			_, err := w.f.Msg.CreateMeeting(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}

// createValidUntil is bob's creation of meeting 2, signed with the given
// valid_until instead of the fixture's.
func createValidUntil(w *world, validUntil int64) *types.MsgCreateMeeting {
	msg := w.f.CreateMeetingMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, types.Policy{}, duration)
	msg.ValidUntil = validUntil
	msg.Sig = ed25519.Sign(w.bob.key, types.CreateSignBytes(w.f.Ctx.ChainID(), msg.MeetingId, msg.UserId, msg.DeviceId,
		msg.EphPk, msg.Policy, msg.DurationSeconds, validUntil, 0))
	return msg
}

// The creation signature is accepted from valid_until = block time up to
// block time + MaxCreateValidity, both ends included, and the meeting
// keeps its valid_until.
func TestCreateMeetingValidityWindow(t *testing.T) {
	for _, ahead := range []int64{0, types.MaxCreateValidity} {
		w := newWorld(t)
		validUntil := w.f.Ctx.BlockTime().Unix() + ahead
		_, err := w.f.Msg.CreateMeeting(w.f.Ctx, createValidUntil(w, validUntil))
		require.NoErrorf(t, err, "valid_until = block time + %d", ahead)
		require.Equal(t, validUntil, w.meeting(t, mtest.NewMeetingID(2)).CreateValidUntil)
		mtest.CheckInvariants(t, w.f)
	}
}

func TestUpdateParams(t *testing.T) {
	w := newWorld(t)
	f := w.f
	p := types.DefaultParams()
	p.MaxPendingRequests = 7
	_, err := f.Msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	got, err := f.Keeper.Params.Get(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, p, got)
	evs := mtest.Events[*types.EventParamsUpdated](t, f)
	require.Len(t, evs, 1)
	require.Equal(t, p, *evs[0].Params)

	bad := p
	bad.EndBlockBudget = 0
	for _, tc := range []struct {
		name string
		msg  *types.MsgUpdateParams
		want error
	}{
		{"not the authority", &types.MsgUpdateParams{Authority: f.Owner, Params: p}, types.ErrUnauthorized},
		{"invalid params", &types.MsgUpdateParams{Authority: f.Authority, Params: bad}, types.ErrInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f)
			_, err := f.Msg.UpdateParams(f.Ctx, tc.msg)
			requireRejected(t, f, before, err, tc.want)
		})
	}
}
