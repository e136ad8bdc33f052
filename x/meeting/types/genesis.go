package types

import (
	"bytes"
	"fmt"

	"cosmossdk.io/errors"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// DefaultGenesis returns no meetings and default params.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate rejects malformed entries, duplicates and dangling references:
// requests, epochs and log entries must belong to a meeting, epochs of a
// meeting are 1..meeting.epoch and its log entries 1..meeting.request_seq
// without gaps, every request's seq is a log entry naming its device, and
// the last epoch's roster hash and commitment are the meeting's.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	meetings := make(map[string]Meeting, len(gs.Meetings))
	for i, m := range gs.Meetings {
		if len(m.MeetingId) != MeetingIDSize {
			return errors.Wrapf(ErrInvalidGenesis, "meetings[%d]: meeting_id must be %d bytes", i, MeetingIDSize)
		}
		if _, dup := meetings[string(m.MeetingId)]; dup {
			return errors.Wrapf(ErrInvalidGenesis, "meetings[%d]: duplicate meeting %x", i, m.MeetingId)
		}
		if _, ok := Status_name[int32(m.Status)]; !ok || m.Status == Status_STATUS_UNSPECIFIED {
			return errors.Wrapf(ErrInvalidGenesis, "meetings[%d]: status %d is not open or ended", i, m.Status)
		}
		if err := identitytypes.ValidateUserID("leader_user", m.LeaderUser); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "meetings[%d]: %v", i, err)
		}
		if err := identitytypes.ValidateDeviceID("leader_device", m.LeaderDevice); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "meetings[%d]: %v", i, err)
		}
		meetings[string(m.MeetingId)] = m
	}
	seenReq := make(map[string]bool)
	for i, r := range gs.Requests {
		if _, ok := meetings[string(r.MeetingId)]; !ok {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: unknown meeting %x", i, r.MeetingId)
		}
		k := fmt.Sprintf("%x/%s/%s", r.MeetingId, r.UserId, r.DeviceId)
		if seenReq[k] {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: duplicate request %s", i, k)
		}
		seenReq[k] = true
		if _, ok := RequestStatus_name[int32(r.Status)]; !ok || r.Status == RequestStatus_REQUEST_STATUS_UNSPECIFIED {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: status %d is not a request status", i, r.Status)
		}
		if err := identitytypes.ValidateUserID("requests[].user_id", r.UserId); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: %v", i, err)
		}
		if err := identitytypes.ValidateDeviceID("requests[].device_id", r.DeviceId); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: %v", i, err)
		}
		if err := ValidateEphKey("requests[].eph_pk", r.EphPk); err != nil {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: %v", i, err)
		}
	}
	epochs := make(map[string]map[uint64]Epoch)
	for i, e := range gs.Epochs {
		m, ok := meetings[string(e.MeetingId)]
		if !ok {
			return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: unknown meeting %x", i, e.MeetingId)
		}
		if e.Epoch == 0 || e.Epoch > m.Epoch {
			return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: epoch %d outside 1..%d", i, e.Epoch, m.Epoch)
		}
		if epochs[string(e.MeetingId)] == nil {
			epochs[string(e.MeetingId)] = make(map[uint64]Epoch)
		}
		if _, dup := epochs[string(e.MeetingId)][e.Epoch]; dup {
			return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: duplicate epoch %d", i, e.Epoch)
		}
		for j := 1; j < len(e.Members); j++ {
			a, b := e.Members[j-1], e.Members[j]
			if a.UserId > b.UserId || (a.UserId == b.UserId && a.DeviceId >= b.DeviceId) {
				return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: members not in canonical order or duplicated at %d", i, j)
			}
		}
		if _, ok := Reason_name[int32(e.Reason)]; !ok || e.Reason == Reason_REASON_UNSPECIFIED {
			return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: reason %d", i, e.Reason)
		}
		if !bytes.Equal(RosterHash(e.MeetingId, e.Members), e.RosterHash) {
			return errors.Wrapf(ErrInvalidGenesis, "epochs[%d]: roster hash does not match members", i)
		}
		epochs[string(e.MeetingId)][e.Epoch] = e
	}
	logs, err := validateRequestLog(gs.RequestLog, meetings)
	if err != nil {
		return err
	}
	for i, r := range gs.Requests {
		e, ok := logs[string(r.MeetingId)][r.Seq]
		if !ok || e.UserId != r.UserId || e.DeviceId != r.DeviceId {
			return errors.Wrapf(ErrInvalidGenesis, "requests[%d]: seq %d is not a request log entry of %s/%s", i, r.Seq, r.UserId, r.DeviceId)
		}
	}
	for id, m := range meetings {
		if uint64(len(logs[id])) != m.RequestSeq {
			return errors.Wrapf(ErrInvalidGenesis, "meeting %x: request_seq %d but %d log entries", m.MeetingId, m.RequestSeq, len(logs[id]))
		}
		if uint64(len(epochs[id])) != m.Epoch {
			return errors.Wrapf(ErrInvalidGenesis, "meeting %x: epoch %d but %d epochs", m.MeetingId, m.Epoch, len(epochs[id]))
		}
		if m.Epoch > 0 {
			last := epochs[id][m.Epoch]
			if !bytes.Equal(last.RosterHash, m.RosterHash) || !bytes.Equal(last.KeyCommitment, m.KeyCommitment) {
				return errors.Wrapf(ErrInvalidGenesis, "meeting %x: roster hash or commitment differs from epoch %d", m.MeetingId, m.Epoch)
			}
		}
	}
	return nil
}

// validateRequestLog checks the log entries and returns them by meeting and
// seq: each belongs to a known meeting, has a seq in 1..request_seq that no
// other entry of the meeting has, a kind and valid IDs.
func validateRequestLog(log []RequestLogRecord, meetings map[string]Meeting) (map[string]map[uint64]RequestLogEntry, error) {
	logs := make(map[string]map[uint64]RequestLogEntry)
	for i, l := range log {
		m, ok := meetings[string(l.MeetingId)]
		if !ok {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: unknown meeting %x", i, l.MeetingId)
		}
		if l.Seq == 0 || l.Seq > m.RequestSeq {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: seq %d outside 1..%d", i, l.Seq, m.RequestSeq)
		}
		if logs[string(l.MeetingId)] == nil {
			logs[string(l.MeetingId)] = make(map[uint64]RequestLogEntry)
		}
		if _, dup := logs[string(l.MeetingId)][l.Seq]; dup {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: duplicate seq %d of meeting %x", i, l.Seq, l.MeetingId)
		}
		if _, ok := LogKind_name[int32(l.Entry.Kind)]; !ok || l.Entry.Kind == LogKind_LOG_KIND_UNSPECIFIED {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: kind %d", i, l.Entry.Kind)
		}
		if err := identitytypes.ValidateUserID("request_log[].user_id", l.Entry.UserId); err != nil {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: %v", i, err)
		}
		if err := identitytypes.ValidateDeviceID("request_log[].device_id", l.Entry.DeviceId); err != nil {
			return nil, errors.Wrapf(ErrInvalidGenesis, "request_log[%d]: %v", i, err)
		}
		logs[string(l.MeetingId)][l.Seq] = l.Entry
	}
	return logs, nil
}
