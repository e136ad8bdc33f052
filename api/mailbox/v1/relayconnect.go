package mailboxv1

import (
	"fmt"

	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/internal/signbytes"
)

// Media relay connections (PROTOCOL.md section 12).
const (
	// RelayConnectDomain starts the sign bytes of a RelayConnectRequest.
	RelayConnectDomain = "parley/v1/mailbox/relay-connect"
	// RelayNonceSize is the size of RelayConnectRequest.nonce.
	RelayNonceSize = 16
	// MaxOfferSize bounds RelayConnectRequest.offer_sdp.
	MaxOfferSize = 60000 // fits the u16 length prefix of the sign bytes
)

// RelayConnectSignBytes returns the bytes a device signs to connect to a
// node's media relay on chain chainID (layout in doc.go). The signature
// itself is not covered.
func RelayConnectSignBytes(chainID string, r *RelayConnectRequest) []byte {
	return signbytes.New(RelayConnectDomain, chainID).
		String(r.User).
		String(r.Device).
		Uint64(uint64(r.CreatedAtMs)).
		Bytes(r.Nonce).
		Bytes(r.MeetingId).
		Bytes([]byte(r.OfferSdp)).
		Done()
}

// ValidateRelayConnect checks everything about r that needs neither a
// clock nor the chain. It does not verify the signature.
func ValidateRelayConnect(r *RelayConnectRequest) error {
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
	case len(r.Nonce) != RelayNonceSize:
		return bad("nonce", "want %d bytes, got %d", RelayNonceSize, len(r.Nonce))
	case len(r.MeetingId) != MeetingIDSize:
		return bad("meeting_id", "want %d bytes, got %d", MeetingIDSize, len(r.MeetingId))
	case len(r.OfferSdp) == 0 || len(r.OfferSdp) > MaxOfferSize:
		return bad("offer_sdp", "want 1 to %d bytes, got %d", MaxOfferSize, len(r.OfferSdp))
	case len(r.Sig) != SignatureSize:
		return bad("sig", "want %d bytes (Ed25519), got %d", SignatureSize, len(r.Sig))
	}
	return nil
}
