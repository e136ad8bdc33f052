package meeting

import (
	"crypto/ed25519"
	"fmt"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Epoch is one verified epoch of the meeting: what the session proved and
// opened, built once and handed down (to the call engine, the page); code
// below it never goes back to the chain for any of it.
type Epoch struct {
	Number uint64
	// Key is the epoch's 32-byte meeting key. It is valid only during the
	// OnEpoch call that receives it; the session clears it afterwards.
	Key []byte
	// Code is the security code of the epoch (key commitment and roster).
	Code   string
	Reason meetingtypes.Reason
	// Leader is the device that committed the epoch.
	Leader DeviceRef
	// Members in canonical roster order: a member's index is its SFrame
	// sender index.
	Members []Member
	// Self is this device's index in Members.
	Self int
	// Height is the block the epoch was committed in.
	Height int64
}

// DeviceRef names a device: x/identity's type, whose String is
// "user/device".
type DeviceRef = identitytypes.DeviceRef

// Member is one member of a verified epoch, with the keys the chain binds
// to it: its device key (verifies what it signs: signalling, envelopes)
// and its ephemeral key in this meeting (seals what is sent to it).
type Member struct {
	DeviceRef
	DevicePub ed25519.PublicKey
	EphPub    []byte
	// AddedBy is the device that approved this one; empty when it was the
	// user's first device or added by a reset (see Reset).
	AddedBy string
	// Reset is true when the device came with a reset of its user: the
	// owner account alone added it, no earlier device signed it.
	Reset bool
	// NewSinceMet is true when this device met the member's user before,
	// with other devices only (see Config.Contacts).
	NewSinceMet bool
}

func (e Epoch) String() string {
	return fmt.Sprintf("epoch %d: %d members, security code %s", e.Number, len(e.Members), e.Code)
}
