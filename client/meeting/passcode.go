package meeting

import (
	"crypto/hmac"
	"crypto/hpke"
	"crypto/sha256"
	"errors"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// The passcode never reaches the chain. A requester proves it knows the
// passcode with an HMAC bound to the meeting and its device, sealed to the
// leader's ephemeral key so that chain observers cannot test guesses
// against it:
//
//	proof  = HMAC-SHA256(key = passcode, str("parley/v1/passcode") ‖ str(meeting_id) ‖ str(user_id) ‖ str(device_id))
//	sealed = HPKE base mode (MLKEM768X25519, HKDF-SHA256, AES-256-GCM) to leader_eph_pk,
//	         info = str("parley/v1/passcode") ‖ str(chain_id) ‖ str(meeting_id), aad = empty, plaintext = proof
//	wire   = enc ‖ ciphertext   (enc is 1120 bytes)
//
// with str(x) = u16_be(len(x)) ‖ x. A new leader after a claim cannot open
// proofs sealed to the previous leader; such requesters ask again.
const passcodeDomain = "parley/v1/passcode"

// ErrBadPasscode means a request's passcode proof is missing or wrong.
var ErrBadPasscode = errors.New("passcode proof missing or wrong")

func passcodeProof(passcode string, meetingID []byte, userID, deviceID string) []byte {
	msg := identitytypes.NewSignBytes(passcodeDomain, "").Bytes(meetingID).String(userID).String(deviceID).Done()
	mac := hmac.New(sha256.New, []byte(passcode))
	mac.Write(msg)
	return mac.Sum(nil)
}

func passcodeInfo(chainID string, meetingID []byte) []byte {
	return identitytypes.NewSignBytes(passcodeDomain, chainID).Bytes(meetingID).Done()
}

// SealPasscode makes the sealed field of a join request.
func SealPasscode(chainID string, meetingID []byte, userID, deviceID, passcode string, leaderEph []byte) ([]byte, error) {
	pk, err := hpke.MLKEM768X25519().NewPublicKey(leaderEph)
	if err != nil {
		return nil, err
	}
	return hpke.Seal(pk, hpke.HKDFSHA256(), hpke.AES256GCM(), passcodeInfo(chainID, meetingID), passcodeProof(passcode, meetingID, userID, deviceID))
}

// CheckPasscode opens a request's sealed proof with the leader's ephemeral
// key and compares it with the passcode in constant time.
func CheckPasscode(chainID string, meetingID []byte, userID, deviceID, passcode string, leaderPriv hpke.PrivateKey, sealed []byte) error {
	proof, err := hpke.Open(leaderPriv, hpke.HKDFSHA256(), hpke.AES256GCM(), passcodeInfo(chainID, meetingID), sealed)
	if err != nil || !hmac.Equal(proof, passcodeProof(passcode, meetingID, userID, deviceID)) {
		return ErrBadPasscode
	}
	return nil
}
