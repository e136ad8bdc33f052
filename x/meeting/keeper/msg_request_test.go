package keeper_test

import (
	"bytes"
	"crypto/hpke"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

func TestRequestJoin(t *testing.T) {
	w := newWorld(t)
	f := w.f
	sealed := bytes.Repeat([]byte{7}, types.MaxSealedSize)
	_, err := f.Msg.RequestJoin(f.Ctx, f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, sealed))
	require.NoError(t, err)

	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.bob))
	require.NoError(t, err)
	require.Equal(t, types.JoinRequest{
		MeetingId: w.mid, UserId: "bob", DeviceId: "desk", EphPk: w.bob.eph, Sealed: sealed,
		Status: types.RequestStatus_REQUEST_STATUS_PENDING, Height: mtest.Height, Seq: 2,
	}, r)
	// Entry 2 of the log (after the leader's) records it.
	require.EqualValues(t, 2, w.meeting(t, w.mid).RequestSeq)
	e, err := f.Keeper.RequestLog.Get(f.Ctx, collections.Join(w.mid, uint64(2)))
	require.NoError(t, err)
	require.Equal(t, types.RequestLogEntry{UserId: "bob", DeviceId: "desk", Height: mtest.Height, Kind: types.LogKind_LOG_KIND_REQUEST}, e)
	n, err := f.Keeper.PendingCount.Get(f.Ctx, w.mid)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	has, err := f.Keeper.PendingQueue.Has(f.Ctx, collections.Join3(int64(mtest.Height), w.mid, "bob/desk"))
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, []*types.EventJoinRequested{{MeetingId: w.mid, UserId: "bob", DeviceId: "desk"}},
		mtest.Events[*types.EventJoinRequested](t, f))
	mtest.CheckInvariants(t, f)
}

// A device that left comes back only through a new request, with a new key.
func TestRequestJoinAgainAfterLeaving(t *testing.T) {
	w := newWorld(t).withRoster(t)
	f := w.f
	require.NoError(t, w.leave(w.mid, w.bob))
	eph, _ := f.EphKey(t)
	_, err := f.Msg.RequestJoin(f.Ctx, f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, eph, nil))
	require.NoError(t, err)
	r, err := f.Keeper.Requests.Get(f.Ctx, reqKey(w.mid, w.bob))
	require.NoError(t, err)
	require.Equal(t, types.RequestStatus_REQUEST_STATUS_PENDING, r.Status)
	require.Equal(t, eph, r.EphPk)
	// The new request is a new log entry (after alice, bob, carol, dave).
	require.EqualValues(t, 5, r.Seq)
	require.EqualValues(t, 5, w.meeting(t, w.mid).RequestSeq)
	mtest.CheckInvariants(t, f)
}

func TestRequestJoinRejected(t *testing.T) {
	ffff := bytes.Repeat([]byte{0xff}, types.EphKeySize)
	_, err := hpke.MLKEM768X25519().NewPublicKey(ffff)
	require.Error(t, err, "the unparsable key of the test must really not parse")

	allowID := mtest.NewMeetingID(3)
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world)
		msg   func(w *world) *types.MsgRequestJoin
		want  error
	}{
		{name: "unknown meeting", want: types.ErrMeetingNotFound, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(mtest.NewMeetingID(99), "bob", "desk", w.bob.key, w.bob.eph, nil)
		}},
		{name: "meeting_id of 15 bytes", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid[:15], "bob", "desk", w.bob.key, w.bob.eph, nil)
		}},
		{name: "empty meeting_id", want: types.ErrInvalidMeetingID, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(nil, "bob", "desk", w.bob.key, w.bob.eph, nil)
		}},
		{name: "ended meeting", want: types.ErrMeetingEnded,
			setup: func(t *testing.T, w *world) { w.end(t, w.mid) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			}},
		{name: "expired meeting", want: types.ErrMeetingExpired,
			setup: func(t *testing.T, w *world) { w.expire(t, w.mid) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			}},
		{name: "revoked device", want: identitytypes.ErrDeviceRevoked,
			setup: func(t *testing.T, w *world) { w.f.RevokeDevice(t, "erin", "two", "one", w.erin1.key) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "erin", "two", w.erin2.key, w.erin2.eph, nil)
			}},
		{name: "unknown device", want: identitytypes.ErrDeviceNotFound, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "phone", w.bob.key, w.bob.eph, nil)
		}},
		{name: "bad user_id", want: identitytypes.ErrInvalidUserID, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "b", "desk", w.bob.key, w.bob.eph, nil)
		}},
		{name: "bad device_id", want: identitytypes.ErrInvalidDeviceID, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "", w.bob.key, w.bob.eph, nil)
		}},
		{name: "user not on the allowlist", want: types.ErrNotAllowed,
			setup: func(t *testing.T, w *world) {
				require.NoError(t, w.create(allowID, w.alice, types.Policy{Allowlist: []string{"alice", "bob"}}))
			},
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(allowID, "carol", "laptop", w.carol.key, w.carol.eph, nil)
			}},
		{name: "duplicate pending request", want: types.ErrDuplicateRequest,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.request(w.mid, w.bob)) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.carol.eph, nil)
			}},
		{name: "duplicate of the leader's admitted request", want: types.ErrDuplicateRequest, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "alice", "phone", w.alice.key, w.alice.eph, nil)
		}},
		{name: "duplicate admitted request", want: types.ErrDuplicateRequest,
			setup: func(t *testing.T, w *world) { w.withRoster(t) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			}},
		{name: "too many pending requests", want: types.ErrTooManyRequests,
			setup: func(t *testing.T, w *world) {
				p := types.DefaultParams()
				p.MaxPendingRequests = 2
				w.f.SetParams(t, p)
				require.NoError(t, w.request(w.mid, w.bob))
				require.NoError(t, w.request(w.mid, w.carol))
			},
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "dave", "pc", w.dave.key, w.dave.eph, nil)
			}},
		{name: "eph_pk of the leader", want: types.ErrEphKeyReused, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.alice.eph, nil)
		}},
		{name: "eph_pk of another device's request", want: types.ErrEphKeyReused,
			setup: func(t *testing.T, w *world) { require.NoError(t, w.request(w.mid, w.carol)) },
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.carol.eph, nil)
			}},
		{name: "same eph_pk again after leaving", want: types.ErrEphKeyReused,
			setup: func(t *testing.T, w *world) {
				w.withRoster(t)
				require.NoError(t, w.leave(w.mid, w.bob))
			},
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			}},
		{name: "same eph_pk again after being removed", want: types.ErrEphKeyReused,
			setup: func(t *testing.T, w *world) {
				w.withRoster(t)
				require.NoError(t, w.commit(w.mid, 2, w.alice, types.Reason_REASON_REMOVE, w.alice, w.carol))
			},
			msg: func(w *world) *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			}},
		{name: "eph_pk too short", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph[:types.EphKeySize-1], nil)
		}},
		{name: "eph_pk too long", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, append(bytes.Clone(w.bob.eph), 0), nil)
		}},
		{name: "eph_pk empty", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, nil, nil)
		}},
		{name: "eph_pk of the right length that does not parse", want: types.ErrInvalidEphKey, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, ffff, nil)
		}},
		{name: "sealed too large", want: types.ErrInvalidSealed, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, make([]byte, types.MaxSealedSize+1))
		}},
		{name: "signed for another chain", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgRequestJoin {
			return signedElsewhere(w.f, func() *types.MsgRequestJoin {
				return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, nil)
			})
		}},
		{name: "signed for another meeting", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgRequestJoin {
			msg := w.f.RequestJoinMsg(mtest.NewMeetingID(2), "bob", "desk", w.bob.key, w.bob.eph, nil)
			msg.MeetingId = w.mid
			return msg
		}},
		{name: "signature over other sealed bytes", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgRequestJoin {
			msg := w.f.RequestJoinMsg(w.mid, "bob", "desk", w.bob.key, w.bob.eph, []byte("a"))
			msg.Sealed = []byte("b")
			return msg
		}},
		{name: "signed by another user's device", want: identitytypes.ErrInvalidSignature, msg: func(w *world) *types.MsgRequestJoin {
			return w.f.RequestJoinMsg(w.mid, "bob", "desk", w.carol.key, w.bob.eph, nil)
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
			_, err := w.f.Msg.RequestJoin(w.f.Ctx, msg)
			requireRejected(t, w.f, before, err, tc.want)
		})
	}
}
