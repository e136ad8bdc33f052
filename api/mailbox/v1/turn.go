package mailboxv1

import (
	"fmt"

	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/internal/signbytes"
)

// TURN credential requests (PROTOCOL.md section 11).
const (
	// TURNDomain starts the sign bytes of a TurnCredentialsRequest.
	TURNDomain = "parley/v1/mailbox/turn-credentials"
	// TURNNonceSize is the size of TurnCredentialsRequest.nonce.
	TURNNonceSize = 16
)

// TURNSignBytes returns the bytes a device signs for a TURN credential
// request on chain chainID (layout in doc.go). The signature itself is not
// covered.
func TURNSignBytes(chainID string, r *TurnCredentialsRequest) []byte {
	return signbytes.New(TURNDomain, chainID).
		String(r.User).
		String(r.Device).
		Uint64(uint64(r.CreatedAtMs)).
		Bytes(r.Nonce).
		Bytes(r.MeetingId).
		Done()
}

// ValidateTURNRequest checks everything about r that needs neither a
// clock nor the chain. It does not verify the signature.
func ValidateTURNRequest(r *TurnCredentialsRequest) error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMalformedRequest, field, fmt.Sprintf(format, args...))
	}
	switch {
	case r == nil:
		return fmt.Errorf("%w: request is missing", ErrMalformedRequest)
	case !ids.ValidUser(r.User):
		return bad("user", "want "+ids.UserRule+", got %q", r.User)
	case !ids.ValidDevice(r.Device):
		return bad("device", "want "+ids.DeviceRule+", got %q", r.Device)
	case r.CreatedAtMs <= 0:
		return bad("created_at_ms", "want a positive Unix time in milliseconds, got %d", r.CreatedAtMs)
	case len(r.Nonce) != TURNNonceSize:
		return bad("nonce", "want %d bytes, got %d", TURNNonceSize, len(r.Nonce))
	case len(r.MeetingId) != 0 && len(r.MeetingId) != MeetingIDSize:
		return bad("meeting_id", "want empty or %d bytes, got %d", MeetingIDSize, len(r.MeetingId))
	case len(r.Sig) != SignatureSize:
		return bad("sig", "want %d bytes (Ed25519), got %d", SignatureSize, len(r.Sig))
	}
	return nil
}
