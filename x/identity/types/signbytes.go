package types

import "github.com/parleynet/parley/internal/signbytes"

// Domains of the device signatures x/identity verifies. Each one names the
// single action a signature authorises, so no signature can be replayed as
// another kind.
const (
	DomainRegister = "parley/v1/identity/register"
	DomainAddPoP   = "parley/v1/identity/add-pop"
	DomainApprove  = "parley/v1/identity/approve"
	DomainRevoke   = "parley/v1/identity/revoke"
	DomainReset    = "parley/v1/identity/reset"
)

// SignBytes is the canonical encoding of a device signature's message
// (internal/signbytes): the domain and then every field in order, each
// byte string prefixed by its length as a 2-byte big-endian integer and
// each number as 8 bytes big-endian. x/meeting, the mailbox API and the
// client build their sign bytes with it too, so signer and verifier share
// one definition.
type SignBytes = signbytes.Builder

// NewSignBytes starts sign bytes with a domain and the chain ID, which every
// Parley device signature covers.
func NewSignBytes(domain, chainID string) *SignBytes { return signbytes.New(domain, chainID) }

// RegisterSignBytes is signed by a new user's first device: it proves the
// key's possession and binds it to the owner account, so nobody watching
// the mempool can register the same key under another account.
func RegisterSignBytes(chainID, owner, userID, deviceID string, pubkey []byte) []byte {
	return NewSignBytes(DomainRegister, chainID).String(owner).String(userID).String(deviceID).Bytes(pubkey).Done()
}

// AddDevicePoPSignBytes is signed by the device being added (possession).
func AddDevicePoPSignBytes(chainID, owner, userID string, seq uint64, deviceID string, pubkey []byte) []byte {
	return NewSignBytes(DomainAddPoP, chainID).String(owner).String(userID).Uint64(seq).String(deviceID).Bytes(pubkey).Done()
}

// ApproveSignBytes is signed by an existing active device to approve a new
// one. seq is the user's current seq, so each approval is single-use.
func ApproveSignBytes(chainID, userID string, seq uint64, deviceID string, pubkey []byte, approverDeviceID string) []byte {
	return NewSignBytes(DomainApprove, chainID).String(userID).Uint64(seq).String(deviceID).Bytes(pubkey).String(approverDeviceID).Done()
}

// RevokeSignBytes is signed by an active device to revoke deviceID.
func RevokeSignBytes(chainID, userID string, seq uint64, deviceID, signerDeviceID string) []byte {
	return NewSignBytes(DomainRevoke, chainID).String(userID).Uint64(seq).String(deviceID).String(signerDeviceID).Done()
}

// ResetSignBytes is signed by the single new device of a reset.
func ResetSignBytes(chainID, owner, userID string, seq uint64, deviceID string, pubkey []byte) []byte {
	return NewSignBytes(DomainReset, chainID).String(owner).String(userID).Uint64(seq).String(deviceID).Bytes(pubkey).Done()
}
