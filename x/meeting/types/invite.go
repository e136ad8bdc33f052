package types

// DomainInvite labels the leader device's signature on an invite. The
// chain never sees an invite; its sign bytes live here, beside the other
// meeting sign bytes, so that the client that signs and the client that
// verifies use one definition.
const DomainInvite = "parley/v1/invite"

// InviteFields is what a signed invite states; every field is covered by
// the signature. Nothing in it is secret: the passcode is never here,
// only whether the leader asks for one.
type InviteFields struct {
	ChainID          string
	MeetingID        []byte
	LeaderUser       string
	LeaderDevice     string
	PasscodeRequired bool
	StartsAt         int64  // Unix seconds; 0 when unscheduled
	DurationSeconds  uint64 // 0 when unscheduled
	AnchorHeight     int64  // the inviter's trust anchor: header height
	AnchorHash       []byte // and header hash (32 bytes)
}

// InviteSignBytes is signed by the leader device:
//
//	str("parley/v1/invite") ‖ str(chain_id) ‖ str(meeting_id) ‖ str(leader_user) ‖ str(leader_device)
//	  ‖ u64(passcode_required) ‖ u64(starts_at) ‖ u64(duration_seconds) ‖ u64(anchor_height) ‖ str(anchor_hash)
//
// (str(x) = u16_be(len(x)) ‖ x, u64 8 bytes big-endian.) An invite's
// payload is u8(1) ‖ these bytes without str(domain) ‖ str(signature): see
// client/meeting (invitesigned.go) and docs/PROTOCOL.md.
func InviteSignBytes(f InviteFields) []byte {
	passcode := uint64(0)
	if f.PasscodeRequired {
		passcode = 1
	}
	return start(DomainInvite, f.ChainID, f.MeetingID).String(f.LeaderUser).String(f.LeaderDevice).
		Uint64(passcode).Uint64(uint64(f.StartsAt)).Uint64(f.DurationSeconds).
		Uint64(uint64(f.AnchorHeight)).Bytes(f.AnchorHash).Done()
}
