package types

import (
	"cosmossdk.io/collections"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// Key codecs of the collections a client reads with proofs. The keeper
// builds its collections with these, and the *StoreKey functions below
// encode with them, so a client computes exactly the bytes the keeper
// writes.
var (
	// MeetingKeyCodec: meeting_id, as is.
	MeetingKeyCodec = collections.BytesKey
	// RequestKeyCodec: (meeting_id, "user_id/device_id").
	RequestKeyCodec = collections.PairKeyCodec(collections.BytesKey, collections.StringKey)
	// EpochKeyCodec: (meeting_id, epoch).
	EpochKeyCodec = collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)
	// RequestLogKeyCodec: (meeting_id, seq).
	RequestLogKeyCodec = collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)
)

// JoinRequestKey is a join request's collection key: the meeting and the
// device's DeviceRef as text, "user_id/device_id".
func JoinRequestKey(meetingID []byte, d identitytypes.DeviceRef) collections.Pair[[]byte, string] {
	return collections.Join(meetingID, d.String())
}

// The raw KV store keys of x/meeting's provable state, prefix included: what
// a client passes to an ABCI query of /store/meeting/key to read a value
// with a Merkle proof. The value there is the gogoproto encoding of the
// record. In a pair, the first part is a non-terminal key: a BytesKey is
// then preceded by its length in one byte (so at most 255 bytes; the
// pair functions fail beyond that), and the second part is written as is.
//
//	params          0x01
//	meeting         0x02 ‖ meeting_id
//	join request    0x03 ‖ u8(len(meeting_id)) ‖ meeting_id ‖ user_id ‖ "/" ‖ device_id
//	epoch           0x04 ‖ u8(len(meeting_id)) ‖ meeting_id ‖ u64_be(epoch)
//	request log     0x0d ‖ u8(len(meeting_id)) ‖ meeting_id ‖ u64_be(seq)

// ParamsStoreKey is the store key of the module's Params.
func ParamsStoreKey() []byte { return append([]byte(nil), ParamsPrefix...) }

// MeetingStoreKey is the store key of a Meeting.
func MeetingStoreKey(meetingID []byte) []byte {
	// A terminal BytesKey is copied as is and cannot fail to encode.
	key, _ := collections.EncodeKeyWithPrefix(MeetingsPrefix, MeetingKeyCodec, meetingID)
	return key
}

// RequestStoreKey is the store key of a device's JoinRequest in a meeting.
func RequestStoreKey(meetingID []byte, userID, deviceID string) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(RequestsPrefix, RequestKeyCodec,
		JoinRequestKey(meetingID, identitytypes.DeviceRef{User: userID, Device: deviceID}))
}

// EpochStoreKey is the store key of one Epoch of a meeting.
func EpochStoreKey(meetingID []byte, epoch uint64) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(EpochsPrefix, EpochKeyCodec, collections.Join(meetingID, epoch))
}

// RequestLogStoreKey is the store key of entry seq of a meeting's request
// log (a RequestLogEntry).
func RequestLogStoreKey(meetingID []byte, seq uint64) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(RequestLogPrefix, RequestLogKeyCodec, collections.Join(meetingID, seq))
}
