package types

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
)

// RosterDomain prefixes the roster hash.
const RosterDomain = "parley/v1/roster"

// SortMembers puts members in canonical roster order: by user_id, then by
// device_id (byte-wise). A member's position in this order is its SFrame
// sender index.
func SortMembers(members []Member) {
	sort.Slice(members, func(i, j int) bool {
		if members[i].UserId != members[j].UserId {
			return members[i].UserId < members[j].UserId
		}
		return members[i].DeviceId < members[j].DeviceId
	})
}

// RosterHash is SHA-256 over the canonically ordered members:
//
//	str("parley/v1/roster") ‖ str(meeting_id) ‖ u32_be(n) ‖
//	for each member: str(user_id) ‖ str(device_id) ‖ str(eph_pk_hash)
//
// with str(x) = u16_be(len(x)) ‖ x. members must already be sorted.
func RosterHash(meetingID []byte, members []Member) []byte {
	h := sha256.New()
	str := func(b []byte) {
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	str([]byte(RosterDomain))
	str(meetingID)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(members)))
	h.Write(n[:])
	for _, m := range members {
		str([]byte(m.UserId))
		str([]byte(m.DeviceId))
		str(m.EphPkHash)
	}
	return h.Sum(nil)
}

// SenderIndex returns a member's position in a sorted roster, or -1.
func SenderIndex(members []Member, userID, deviceID string) int {
	for i, m := range members {
		if m.UserId == userID && m.DeviceId == deviceID {
			return i
		}
	}
	return -1
}
