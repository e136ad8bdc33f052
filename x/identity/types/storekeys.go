package types

import "cosmossdk.io/collections"

// Key codecs of the collections a client reads with proofs. The keeper
// builds its collections with these, and the *StoreKey functions below
// encode with them, so a client computes exactly the bytes the keeper
// writes.
var (
	// UserKeyCodec: user_id.
	UserKeyCodec = collections.StringKey
	// DeviceKeyCodec: (user_id, device_id).
	DeviceKeyCodec = collections.PairKeyCodec(collections.StringKey, collections.StringKey)
	// HistoryKeyCodec: (user_id, seq).
	HistoryKeyCodec = collections.PairKeyCodec(collections.StringKey, collections.Uint64Key)
)

// The raw KV store keys of x/identity's provable state, prefix included:
// what a client passes to an ABCI query of /store/identity/key to read a
// value with a Merkle proof. The value there is the gogoproto encoding of
// the record. In a pair, the first part is a non-terminal key: a StringKey
// is then followed by a 0x00 terminator (so it may not contain 0x00, which
// no valid user ID does; the pair functions fail on one), and the second
// part is written as is.
//
//	user     0x01 ‖ user_id
//	device   0x02 ‖ user_id ‖ 0x00 ‖ device_id
//	history  0x03 ‖ user_id ‖ 0x00 ‖ u64_be(seq)
//	params   0x05

// ParamsStoreKey is the store key of the module's Params.
func ParamsStoreKey() []byte { return append([]byte(nil), ParamsPrefix...) }

// UserStoreKey is the store key of a User.
func UserStoreKey(userID string) []byte {
	// A terminal StringKey is copied as is and cannot fail to encode.
	key, _ := collections.EncodeKeyWithPrefix(UsersPrefix, UserKeyCodec, userID)
	return key
}

// DeviceStoreKey is the store key of a user's Device.
func DeviceStoreKey(userID, deviceID string) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(DevicesPrefix, DeviceKeyCodec, collections.Join(userID, deviceID))
}

// HistoryStoreKey is the store key of entry seq of a user's history.
func HistoryStoreKey(userID string, seq uint64) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(HistoryPrefix, HistoryKeyCodec, collections.Join(userID, seq))
}
