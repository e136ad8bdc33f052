package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

// failRecorder is a testing.TB whose failures are recorded instead of
// ending the test, so a test can check that CheckInvariants fails.
type failRecorder struct {
	testing.TB
	failed bool
}

type stopped struct{}

func (r *failRecorder) Errorf(string, ...any) { r.failed = true }
func (r *failRecorder) FailNow()              { r.failed = true; panic(stopped{}) }
func (r *failRecorder) Helper()               {}

func checkFails(t *testing.T, f *mtest.Fixture) (failed bool) {
	t.Helper()
	r := &failRecorder{TB: t}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stopped); !ok {
				panic(p)
			}
		}
		failed = r.failed
	}()
	mtest.CheckInvariants(r, f)
	return false
}

// CheckInvariants is only worth running if it notices broken state.
func TestCheckInvariantsCatchesCorruption(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, w *world)
	}{
		{"member index entry missing", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.MemberIndex.Remove(w.f.Ctx, collections.Join("bob", w.mid)))
		}},
		{"leader index of an ex-leader", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.LeaderIndex.Set(w.f.Ctx, collections.Join("bob", w.mid)))
		}},
		{"pending count off by one", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.PendingCount.Set(w.f.Ctx, w.mid, 2))
		}},
		{"pending request not queued", func(t *testing.T, w *world) {
			r, err := w.f.Keeper.Requests.Get(w.f.Ctx, reqKey(w.mid, w.dave))
			require.NoError(t, err)
			require.NoError(t, w.f.Keeper.PendingQueue.Remove(w.f.Ctx, collections.Join3(r.Height, w.mid, "dave/pc")))
		}},
		{"roster member removed", func(t *testing.T, w *world) {
			r, err := w.f.Keeper.Requests.Get(w.f.Ctx, reqKey(w.mid, w.bob))
			require.NoError(t, err)
			r.Status = types.RequestStatus_REQUEST_STATUS_REMOVED
			require.NoError(t, w.f.Keeper.Requests.Set(w.f.Ctx, reqKey(w.mid, w.bob), r))
		}},
		{"admitted request outside the roster", func(t *testing.T, w *world) {
			r, err := w.f.Keeper.Requests.Get(w.f.Ctx, reqKey(w.mid, w.dave))
			require.NoError(t, err)
			r.Status = types.RequestStatus_REQUEST_STATUS_ADMITTED
			require.NoError(t, w.f.Keeper.Requests.Set(w.f.Ctx, reqKey(w.mid, w.dave), r))
			require.NoError(t, w.f.Keeper.PendingCount.Remove(w.f.Ctx, w.mid))
			require.NoError(t, w.f.Keeper.PendingQueue.Remove(w.f.Ctx, collections.Join3(r.Height, w.mid, "dave/pc")))
		}},
		{"roster hash of the meeting", func(t *testing.T, w *world) {
			m := w.meeting(t, w.mid)
			m.RosterHash = make([]byte, 32)
			require.NoError(t, w.f.Keeper.Meetings.Set(w.f.Ctx, w.mid, m))
		}},
		{"epoch missing", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.Epochs.Remove(w.f.Ctx, collections.Join(w.mid, uint64(1))))
		}},
		{"leader eph key", func(t *testing.T, w *world) {
			m := w.meeting(t, w.mid)
			m.LeaderEphPk = w.bob.eph
			require.NoError(t, w.f.Keeper.Meetings.Set(w.f.Ctx, w.mid, m))
		}},
		{"ended meeting with a pending request", func(t *testing.T, w *world) {
			m := w.meeting(t, w.mid)
			m.Status = types.Status_STATUS_ENDED
			require.NoError(t, w.f.Keeper.Meetings.Set(w.f.Ctx, w.mid, m))
		}},
		{"leader key not recorded as used", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.UsedEphKeys.Remove(w.f.Ctx, collections.Join(w.mid, types.EphKeyHash(w.alice.eph))))
		}},
		{"request key not recorded as used", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.UsedEphKeys.Remove(w.f.Ctx, collections.Join(w.mid, types.EphKeyHash(w.dave.eph))))
		}},
		{"used key of a meeting that is gone", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.UsedEphKeys.Set(w.f.Ctx, collections.Join(mtest.NewMeetingID(99), types.EphKeyHash(w.dave.eph))))
		}},
		{"device index entry missing", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.DeviceIndex.Remove(w.f.Ctx, collections.Join3("carol", "laptop", w.mid)))
		}},
		{"log entry missing", func(t *testing.T, w *world) {
			require.NoError(t, w.f.Keeper.RequestLog.Remove(w.f.Ctx, collections.Join(w.mid, uint64(3))))
		}},
		{"log entry past request_seq", func(t *testing.T, w *world) {
			e := types.RequestLogEntry{UserId: "erin", DeviceId: "one", Height: 1, Kind: types.LogKind_LOG_KIND_REQUEST}
			require.NoError(t, w.f.Keeper.RequestLog.Set(w.f.Ctx, collections.Join(w.mid, uint64(5)), e))
		}},
		{"log entry of a meeting that is gone", func(t *testing.T, w *world) {
			e := types.RequestLogEntry{UserId: "erin", DeviceId: "one", Height: 1, Kind: types.LogKind_LOG_KIND_CREATE}
			require.NoError(t, w.f.Keeper.RequestLog.Set(w.f.Ctx, collections.Join(mtest.NewMeetingID(99), uint64(1)), e))
		}},
		{"request seq naming another device", func(t *testing.T, w *world) {
			r, err := w.f.Keeper.Requests.Get(w.f.Ctx, reqKey(w.mid, w.bob))
			require.NoError(t, err)
			r.Seq = 3
			require.NoError(t, w.f.Keeper.Requests.Set(w.f.Ctx, reqKey(w.mid, w.bob), r))
		}},
		{"log entry kind", func(t *testing.T, w *world) {
			e, err := w.f.Keeper.RequestLog.Get(w.f.Ctx, collections.Join(w.mid, uint64(1)))
			require.NoError(t, err)
			e.Kind = types.LogKind_LOG_KIND_REQUEST
			require.NoError(t, w.f.Keeper.RequestLog.Set(w.f.Ctx, collections.Join(w.mid, uint64(1)), e))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t).withRoster(t)
			require.False(t, checkFails(t, w.f), "CheckInvariants fails on sound state")
			tc.corrupt(t, w)
			require.True(t, checkFails(t, w.f), fmt.Sprintf("CheckInvariants missed: %s", tc.name))
		})
	}
}
