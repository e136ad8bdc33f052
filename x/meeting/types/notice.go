package types

// DomainNotice signs a leader's notice to one requester, which travels
// off chain (through the mailbox) and never reaches the chain: the chain
// defines its sign bytes so that every signed thing of a meeting is
// defined in one place.
const DomainNotice = "parley/v1/meeting/notice"

// NoticeReason says why the leader did not admit a request.
type NoticeReason uint64

const (
	// NoticeFull: the meeting has as many members as its call carries.
	NoticeFull NoticeReason = 1
	// NoticeWrongPasscode: the request's passcode proof did not check out.
	NoticeWrongPasscode NoticeReason = 2
	// NoticeRemovedEarlier: the leader removed this device earlier and has
	// not let it back in.
	NoticeRemovedEarlier NoticeReason = 3
)

// NoticeSignBytes is signed by the leader device for a notice about the
// request with log seq requestSeq of device to in the meeting, whose
// ephemeral key hashes to toEphHash:
//
//	"parley/v1/meeting/notice" … ‖ str(leader user) ‖ str(leader device) ‖ str(to user) ‖ str(to device) ‖ str(to_eph_pk_hash) ‖ u64(request_seq) ‖ u64(reason)
//
// The request's seq and key make a notice good for that request only.
func NoticeSignBytes(chainID string, meetingID []byte, leaderUser, leaderDevice, toUser, toDevice string, toEphHash []byte, requestSeq uint64, reason NoticeReason) []byte {
	return start(DomainNotice, chainID, meetingID).String(leaderUser).String(leaderDevice).String(toUser).String(toDevice).
		Bytes(toEphHash).Uint64(requestSeq).Uint64(uint64(reason)).Done()
}

// DomainEphAtRest names the device signature a client derives the key that
// encrypts its ephemeral private keys at rest from (client/meeting); it is
// never sent anywhere.
const DomainEphAtRest = "parley/v1/meeting/eph-at-rest"

// EphAtRestSignBytes is what a device signs to derive that key, per meeting:
//
//	str("parley/v1/meeting/eph-at-rest") ‖ str("") ‖ str(meeting_id) ‖ str(user) ‖ str(device)
func EphAtRestSignBytes(meetingID []byte, userID, deviceID string) []byte {
	return start(DomainEphAtRest, "", meetingID).String(userID).String(deviceID).Done()
}
