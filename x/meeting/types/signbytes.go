package types

import (
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// Domains of the device signatures x/meeting verifies; each names one action.
const (
	DomainCreate   = "parley/v1/meeting/create"
	DomainRequest  = "parley/v1/meeting/request"
	DomainCommit   = "parley/v1/meeting/commit"
	DomainLeave    = "parley/v1/meeting/leave"
	DomainTransfer = "parley/v1/meeting/transfer"
	DomainClaim    = "parley/v1/meeting/claim"
	DomainRotate   = "parley/v1/meeting/rotate"
	DomainEnd      = "parley/v1/meeting/end"
)

// All sign bytes use x/identity's length-prefixed encoding and begin with
// the domain, the chain ID and the meeting ID.
func start(domain, chainID string, meetingID []byte) *identitytypes.SignBytes {
	return identitytypes.NewSignBytes(domain, chainID).Bytes(meetingID)
}

// CreateSignBytes is signed by the leader device of a new meeting:
//
//	… ‖ str(user) ‖ str(device) ‖ str(eph_pk) ‖ u64(max_participants) ‖ u64(len(allowlist)) ‖ str(user)…
//	  ‖ u64(passcode_required) ‖ u64(duration_seconds) ‖ u64(valid_until) [‖ u64(starts_at)]
//
// starts_at is appended only when it is set, so an unscheduled creation
// signs exactly the bytes it always did; every field before it is
// self-delimiting, so the two forms never coincide.
func CreateSignBytes(chainID string, meetingID []byte, userID, deviceID string, ephPK []byte, p Policy, durationSeconds uint64, validUntil, startsAt int64) []byte {
	s := start(DomainCreate, chainID, meetingID).String(userID).String(deviceID).Bytes(ephPK).
		Uint64(uint64(p.MaxParticipants)).Uint64(uint64(len(p.Allowlist)))
	for _, u := range p.Allowlist {
		s.String(u)
	}
	passcode := uint64(0)
	if p.PasscodeRequired {
		passcode = 1
	}
	s.Uint64(passcode).Uint64(durationSeconds).Uint64(uint64(validUntil))
	if startsAt != 0 {
		s.Uint64(uint64(startsAt))
	}
	return s.Done()
}

// RequestSignBytes is signed by a device asking to join. createdHeight is
// the meeting's created_height: it ties the request to this meeting and not
// to a later one that reuses the ID after pruning.
func RequestSignBytes(chainID string, meetingID []byte, createdHeight int64, userID, deviceID string, ephPK, sealed []byte) []byte {
	return start(DomainRequest, chainID, meetingID).Uint64(uint64(createdHeight)).String(userID).String(deviceID).Bytes(ephPK).Bytes(sealed).Done()
}

// CommitSignBytes is signed by the leader device for an epoch:
//
//	… ‖ u64(epoch) ‖ u64(n) ‖ (str(user) ‖ str(device))… ‖ str(roster_hash) ‖ str(key_commitment) ‖ u64(reason)
//
// members are covered in the order given in the message; rosterHash is the
// one the leader computed from the members' ephemeral keys, so the leader's
// signature vouches for the keys it sealed the meeting key to.
func CommitSignBytes(chainID string, meetingID []byte, epoch uint64, members []MemberRef, rosterHash, keyCommitment []byte, reason Reason) []byte {
	s := start(DomainCommit, chainID, meetingID).Uint64(epoch).Uint64(uint64(len(members)))
	for _, m := range members {
		s.String(m.UserId).String(m.DeviceId)
	}
	return s.Bytes(rosterHash).Bytes(keyCommitment).Uint64(uint64(reason)).Done()
}

// LeaveSignBytes is signed by the leaving device. It covers the hash of the
// request's ephemeral key, which is new for every request, so a leave
// cannot be replayed against a later request.
func LeaveSignBytes(chainID string, meetingID []byte, userID, deviceID string, ephPKHash []byte) []byte {
	return start(DomainLeave, chainID, meetingID).String(userID).String(deviceID).Bytes(ephPKHash).Done()
}

// TransferSignBytes is signed by the current leader; epoch and the count
// of leadership changes pin it to the one state it was made for.
func TransferSignBytes(chainID string, meetingID []byte, epoch, leaderChanges uint64, newUser, newDevice string) []byte {
	return start(DomainTransfer, chainID, meetingID).Uint64(epoch).Uint64(leaderChanges).String(newUser).String(newDevice).Done()
}

// ClaimSignBytes is signed by the claiming member.
func ClaimSignBytes(chainID string, meetingID []byte, epoch, leaderChanges uint64, userID, deviceID string, ephPK []byte) []byte {
	return start(DomainClaim, chainID, meetingID).Uint64(epoch).Uint64(leaderChanges).String(userID).String(deviceID).Bytes(ephPK).Done()
}

// RotateSignBytes is signed by a device replacing its request's ephemeral
// key:
//
//	… ‖ str(user) ‖ str(device) ‖ str(SHA-256(current eph_pk)) ‖ str(new eph_pk)
//
// It names the key it replaces, which is single-use in the meeting, so it
// cannot be replayed once the rotation (or any later one) happened.
func RotateSignBytes(chainID string, meetingID []byte, userID, deviceID string, currentEphPKHash, newEphPK []byte) []byte {
	return start(DomainRotate, chainID, meetingID).String(userID).String(deviceID).Bytes(currentEphPKHash).Bytes(newEphPK).Done()
}

// EndSignBytes is signed by the leader.
func EndSignBytes(chainID string, meetingID []byte, epoch uint64) []byte {
	return start(DomainEnd, chainID, meetingID).Uint64(epoch).Done()
}
