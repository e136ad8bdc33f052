package sframe

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// MeetingKeySize is the length of an epoch's meeting key MK_e.
const MeetingKeySize = 32

// senderKeyLabel starts the HKDF info of a sender's base key; the version
// in it separates these keys from every other use of MK_e.
const senderKeyLabel = "parley/v1/sframe"

// SenderBaseKey derives the SFrame base key of the member at senderIndex in
// the epoch's sorted roster from the meeting key mk:
//
//	base_key = HKDF-SHA256(salt = "", IKM = MK_e,
//	                       info = "parley/v1/sframe" || u32_be(sender_index), L = 32)
//
// Each sender thus has its own key and counter space, so two members can
// never pick the same nonce. The caller should clear the result when done.
func SenderBaseKey(mk []byte, senderIndex uint32) ([]byte, error) {
	if len(mk) != MeetingKeySize {
		return nil, fmt.Errorf("%w: meeting key is %d bytes, want %d", ErrInvalidArgument, len(mk), MeetingKeySize)
	}
	info := binary.BigEndian.AppendUint32([]byte(senderKeyLabel), senderIndex)
	return hkdf.Key(sha256.New, mk, nil, string(info), 32)
}

// SenderKID returns the KID of the member at senderIndex in epoch:
// sender_index << 8 | (epoch mod 256). The low byte tells a receiver which
// of the (at most two) epochs it holds keys for a frame belongs to.
func SenderKID(senderIndex uint32, epoch uint64) uint64 {
	return uint64(senderIndex)<<8 | epoch&0xff
}

// newSenderKey derives the SFrame key of one sender of one epoch and
// clears the intermediate base key.
func newSenderKey(suite CipherSuite, mk []byte, senderIndex uint32, epoch uint64) (*Key, error) {
	base, err := SenderBaseKey(mk, senderIndex)
	if err != nil {
		return nil, err
	}
	defer clear(base)
	return NewKey(suite, SenderKID(senderIndex, epoch), base)
}

// SenderKeyMaterial returns the RFC 9605 sframe_key and sframe_salt of the
// member at senderIndex in epoch under the cipher suite: what an SFrame
// implementation outside this package (the browser's, in client/webui)
// needs to encrypt or decrypt that member's frames, and nothing from which
// the meeting key or another member's keys follow. The caller should clear
// both when done.
func SenderKeyMaterial(suite CipherSuite, mk []byte, senderIndex uint32, epoch uint64) (kid uint64, key, salt []byte, err error) {
	p, err := suite.params()
	if err != nil {
		return 0, nil, nil, err
	}
	base, err := SenderBaseKey(mk, senderIndex)
	if err != nil {
		return 0, nil, nil, err
	}
	defer clear(base)
	kid = SenderKID(senderIndex, epoch)
	d, err := derive(suite, p, kid, base)
	if err != nil {
		return 0, nil, nil, err
	}
	clear(d.secret)
	return kid, d.key, d.salt, nil
}
