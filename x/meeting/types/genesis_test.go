package types_test

import (
	"crypto/hpke"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/meeting/types"
)

var ephKeys = sync.OnceValue(func() [][]byte {
	var out [][]byte
	for range 3 {
		k, err := hpke.MLKEM768X25519().GenerateKey()
		if err != nil {
			panic(err)
		}
		out = append(out, k.PublicKey().Bytes())
	}
	return out
})

func member(user, device string, eph []byte) types.Member {
	return types.Member{UserId: user, DeviceId: device, EphPkHash: types.EphKeyHash(eph)}
}

func epoch(id []byte, n uint64, ms ...types.Member) types.Epoch {
	return types.Epoch{
		MeetingId: id, Epoch: n, Members: ms, RosterHash: types.RosterHash(id, ms),
		KeyCommitment: commt, Reason: types.Reason_REASON_JOIN, Height: int64(n), LeaderUser: "alice", LeaderDevice: "phone",
	}
}

func logEntry(id []byte, seq uint64, user, device string, kind types.LogKind) types.RequestLogRecord {
	return types.RequestLogRecord{MeetingId: id, Seq: seq, Entry: types.RequestLogEntry{UserId: user, DeviceId: device, Height: int64(seq), Kind: kind}}
}

// validGenesis has an open meeting at epoch 2 (alice, bob; carol pending;
// alice rotated her key after the requests) and an ended one without
// epochs.
func validGenesis() types.GenesisState {
	k := ephKeys()
	e1 := epoch(mid, 1, member("alice", "phone", k[0]), member("bob", "desk", k[1]))
	e2 := epoch(mid, 2, member("alice", "phone", k[0]))
	return types.GenesisState{
		Params: types.DefaultParams(),
		Meetings: []types.Meeting{
			{
				MeetingId: mid, LeaderUser: "alice", LeaderDevice: "phone", LeaderEphPk: k[0], Status: types.Status_STATUS_OPEN,
				Epoch: 2, RosterHash: e2.RosterHash, KeyCommitment: commt, CreatedHeight: 1, ExpiresAt: 1000, RequestSeq: 4,
			},
			{MeetingId: mid2, LeaderUser: "bob", LeaderDevice: "desk", LeaderEphPk: k[1], Status: types.Status_STATUS_ENDED, EndedHeight: 5, RequestSeq: 1},
		},
		Requests: []types.JoinRequest{
			{MeetingId: mid, UserId: "alice", DeviceId: "phone", EphPk: k[0], Status: types.RequestStatus_REQUEST_STATUS_ADMITTED, Seq: 4},
			{MeetingId: mid, UserId: "bob", DeviceId: "desk", EphPk: k[1], Status: types.RequestStatus_REQUEST_STATUS_REMOVED, Seq: 2},
			{MeetingId: mid, UserId: "carol", DeviceId: "laptop", EphPk: k[2], Status: types.RequestStatus_REQUEST_STATUS_PENDING, Seq: 3},
			{MeetingId: mid2, UserId: "bob", DeviceId: "desk", EphPk: k[1], Status: types.RequestStatus_REQUEST_STATUS_ADMITTED, Seq: 1},
		},
		Epochs: []types.Epoch{e1, e2},
		RequestLog: []types.RequestLogRecord{
			logEntry(mid, 1, "alice", "phone", types.LogKind_LOG_KIND_CREATE),
			logEntry(mid, 2, "bob", "desk", types.LogKind_LOG_KIND_REQUEST),
			logEntry(mid, 3, "carol", "laptop", types.LogKind_LOG_KIND_REQUEST),
			logEntry(mid, 4, "alice", "phone", types.LogKind_LOG_KIND_ROTATE),
			logEntry(mid2, 1, "bob", "desk", types.LogKind_LOG_KIND_CREATE),
		},
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())
	require.NoError(t, validGenesis().Validate())

	cases := []struct {
		name   string
		mutate func(gs *types.GenesisState)
		want   error
	}{
		{"duplicate meeting", func(gs *types.GenesisState) { gs.Meetings = append(gs.Meetings, gs.Meetings[1]) }, types.ErrInvalidGenesis},
		{"meeting_id of 15 bytes", func(gs *types.GenesisState) { gs.Meetings[1].MeetingId = mid2[:15] }, types.ErrInvalidGenesis},
		{"meeting status unspecified", func(gs *types.GenesisState) { gs.Meetings[1].Status = types.Status_STATUS_UNSPECIFIED }, types.ErrInvalidGenesis},
		{"bad leader user", func(gs *types.GenesisState) { gs.Meetings[1].LeaderUser = "B" }, types.ErrInvalidGenesis},
		{"bad leader device", func(gs *types.GenesisState) { gs.Meetings[1].LeaderDevice = "" }, types.ErrInvalidGenesis},
		{"request of an unknown meeting", func(gs *types.GenesisState) {
			r := gs.Requests[0]
			r.MeetingId = make([]byte, 16)
			gs.Requests = append(gs.Requests, r)
		}, types.ErrInvalidGenesis},
		{"duplicate request", func(gs *types.GenesisState) {
			r := gs.Requests[2]
			r.Status = types.RequestStatus_REQUEST_STATUS_LEFT
			gs.Requests = append(gs.Requests, r)
		}, types.ErrInvalidGenesis},
		{"request status unspecified", func(gs *types.GenesisState) { gs.Requests[2].Status = types.RequestStatus_REQUEST_STATUS_UNSPECIFIED }, types.ErrInvalidGenesis},
		{"request eph_pk too short", func(gs *types.GenesisState) { gs.Requests[2].EphPk = gs.Requests[2].EphPk[:10] }, types.ErrInvalidGenesis},
		{"epoch of an unknown meeting", func(gs *types.GenesisState) {
			e := gs.Epochs[0]
			e.MeetingId = make([]byte, 16)
			e.RosterHash = types.RosterHash(e.MeetingId, e.Members)
			gs.Epochs = append(gs.Epochs, e)
		}, types.ErrInvalidGenesis},
		{"epoch 0", func(gs *types.GenesisState) {
			gs.Epochs = append(gs.Epochs, epoch(mid, 0, gs.Epochs[0].Members...))
		}, types.ErrInvalidGenesis},
		{"epoch past the meeting's", func(gs *types.GenesisState) {
			gs.Epochs = append(gs.Epochs, epoch(mid, 3, gs.Epochs[0].Members...))
		}, types.ErrInvalidGenesis},
		{"duplicate epoch", func(gs *types.GenesisState) { gs.Epochs = append(gs.Epochs, gs.Epochs[0]) }, types.ErrInvalidGenesis},
		{"epoch gap", func(gs *types.GenesisState) {
			gs.Meetings[0].Epoch = 3
			e3 := gs.Epochs[1]
			e3.Epoch = 3
			gs.Epochs[1] = e3
		}, types.ErrInvalidGenesis},
		{"missing first epoch", func(gs *types.GenesisState) { gs.Epochs = gs.Epochs[1:] }, types.ErrInvalidGenesis},
		{"epochs of a meeting at epoch 0", func(gs *types.GenesisState) { gs.Meetings[0].Epoch = 0 }, types.ErrInvalidGenesis},
		{"epoch roster hash does not match its members", func(gs *types.GenesisState) {
			gs.Epochs[0].Members = gs.Epochs[0].Members[:1]
		}, types.ErrInvalidGenesis},
		{"meeting roster hash is not the last epoch's", func(gs *types.GenesisState) {
			gs.Meetings[0].RosterHash = gs.Epochs[0].RosterHash
		}, types.ErrInvalidGenesis},
		{"meeting key commitment is not the last epoch's", func(gs *types.GenesisState) {
			gs.Meetings[0].KeyCommitment = make([]byte, 32)
		}, types.ErrInvalidGenesis},
		{"log entry of an unknown meeting", func(gs *types.GenesisState) {
			gs.RequestLog = append(gs.RequestLog, logEntry(make([]byte, 16), 1, "alice", "phone", types.LogKind_LOG_KIND_CREATE))
		}, types.ErrInvalidGenesis},
		{"duplicate log seq", func(gs *types.GenesisState) {
			gs.RequestLog = append(gs.RequestLog, logEntry(mid, 3, "dave", "pc", types.LogKind_LOG_KIND_REQUEST))
		}, types.ErrInvalidGenesis},
		{"log seq past request_seq", func(gs *types.GenesisState) {
			gs.RequestLog = append(gs.RequestLog, logEntry(mid, 5, "dave", "pc", types.LogKind_LOG_KIND_REQUEST))
		}, types.ErrInvalidGenesis},
		{"log seq 0", func(gs *types.GenesisState) { gs.RequestLog[4].Seq = 0 }, types.ErrInvalidGenesis},
		{"log gap", func(gs *types.GenesisState) {
			gs.Meetings[0].RequestSeq = 5
			gs.RequestLog[3].Seq = 5
			gs.Requests[0].Seq = 5
		}, types.ErrInvalidGenesis},
		{"log kind unspecified", func(gs *types.GenesisState) { gs.RequestLog[2].Entry.Kind = types.LogKind_LOG_KIND_UNSPECIFIED }, types.ErrInvalidGenesis},
		{"log kind out of range", func(gs *types.GenesisState) { gs.RequestLog[2].Entry.Kind = types.LogKind(9) }, types.ErrInvalidGenesis},
		{"log entry with a bad user", func(gs *types.GenesisState) { gs.RequestLog[2].Entry.UserId = "Carol!" }, types.ErrInvalidGenesis},
		{"request seq names another device's entry", func(gs *types.GenesisState) { gs.Requests[2].Seq = 2 }, types.ErrInvalidGenesis},
		{"request seq of no entry", func(gs *types.GenesisState) { gs.Requests[0].Seq = 0 }, types.ErrInvalidGenesis},
		{"request seq of another meeting's entry", func(gs *types.GenesisState) {
			gs.RequestLog = gs.RequestLog[:4]
			gs.Meetings[1].RequestSeq = 0
		}, types.ErrInvalidGenesis},
		{"bad params", func(gs *types.GenesisState) { gs.Params.MaxParticipants = 1 }, types.ErrInvalidParams},
		{"bad params: zero budget", func(gs *types.GenesisState) { gs.Params.EndBlockBudget = 0 }, types.ErrInvalidParams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mutate(&gs)
			require.ErrorIs(t, gs.Validate(), tc.want)
		})
	}
}

// Validate's contract is to reject malformed entries. It checks the IDs
// and enums of meetings but not those of requests and rosters, so a
// genesis file can carry state that no message could have produced.
func TestGenesisValidateRejectsMalformedEntries(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(gs *types.GenesisState)
	}{
		{"request user_id with a slash", func(gs *types.GenesisState) { gs.Requests[2].UserId = "car/ol" }},
		{"request device_id not an ID", func(gs *types.GenesisState) { gs.Requests[2].DeviceId = "Laptop!" }},
		{"request status out of range", func(gs *types.GenesisState) { gs.Requests[2].Status = types.RequestStatus(42) }},
		{"meeting status out of range", func(gs *types.GenesisState) { gs.Meetings[1].Status = types.Status(42) }},
		{"roster not in canonical order", func(gs *types.GenesisState) {
			e := &gs.Epochs[0]
			e.Members[0], e.Members[1] = e.Members[1], e.Members[0]
			e.RosterHash = types.RosterHash(mid, e.Members)
		}},
		{"roster with a duplicate member", func(gs *types.GenesisState) {
			e := &gs.Epochs[1]
			e.Members = append(e.Members, e.Members[0])
			e.RosterHash = types.RosterHash(mid, e.Members)
			gs.Meetings[0].RosterHash = e.RosterHash
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mutate(&gs)
			require.ErrorIs(t, gs.Validate(), types.ErrInvalidGenesis)
		})
	}
}
