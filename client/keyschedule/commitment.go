package keyschedule

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// Sizes of the meeting key and its commitment.
const (
	MeetingKeySize = 32
	CommitmentSize = sha256.Size
)

const labelCommit = "parley/v1/commit"

// NewMeetingKey draws a fresh meeting key MK_e for one epoch from
// crypto/rand. The caller owns it and should clear it once it is installed
// in an EpochKeys and sealed.
func NewMeetingKey() []byte {
	mk := make([]byte, MeetingKeySize)
	rand.Read(mk) // never fails since Go 1.24: it crashes the program instead
	return mk
}

// Commit returns the key commitment the leader posts on chain:
//
//	HMAC-SHA256(key = mk, msg = "parley/v1/commit" || ctx)
func Commit(mk []byte, c Context) ([]byte, error) {
	if len(mk) != MeetingKeySize {
		return nil, fmt.Errorf("%w: meeting key is %d bytes, want %d", ErrInvalidArgument, len(mk), MeetingKeySize)
	}
	c, err := c.checked()
	if err != nil {
		return nil, err
	}
	return commit(mk, c), nil
}

// commit is Commit for a context from checked.
func commit(mk []byte, c Context) []byte {
	m := hmac.New(sha256.New, mk)
	m.Write(c.labeled(labelCommit))
	return m.Sum(nil)
}
