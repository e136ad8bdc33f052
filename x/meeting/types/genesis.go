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
// requests and epochs must belong to a meeting, epochs of a meeting are
// 1..meeting.epoch without gaps, and the last epoch's roster hash and
// commitment are the meeting's.
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
	for id, m := range meetings {
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
