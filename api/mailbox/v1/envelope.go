package mailboxv1

import (
	"crypto/sha256"
	"fmt"

	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/internal/signbytes"
)

// SignBytes returns the bytes a sender device signs for e on chain chainID,
// built with the length-prefixed encoder x/identity's sign bytes use
// (internal/signbytes; layout in doc.go). The signature itself is not
// covered.
func SignBytes(chainID string, e *Envelope) []byte {
	return signbytes.New(SignDomain, chainID).
		Bytes(e.To).
		String(e.FromUser).
		String(e.FromDevice).
		Bytes(e.MeetingId).
		Uint64(uint64(e.Kind)).
		Bytes(e.Body).
		Uint64(uint64(e.CreatedAtMs)).
		Uint64(uint64(e.TtlSeconds)).
		Done()
}

// ID returns the envelope's ID, the key nodes deduplicate by: SHA-256 of
// the deterministic protobuf encoding of the whole envelope, signature
// included. Unknown fields are dropped when an envelope is decoded, so
// re-encoding a received envelope gives the same ID on every node.
func ID(e *Envelope) [IDSize]byte {
	// Marshal of this generated message fails only for a nil receiver, for
	// which the encoding is empty anyway.
	bz, _ := e.Marshal()
	return sha256.Sum256(bz)
}

// RecipientHash returns SHA-256 of a recipient's ephemeral public key, the
// value of Envelope.to.
func RecipientHash(recipientPK []byte) [RecipientSize]byte {
	return sha256.Sum256(recipientPK)
}

// Validate checks everything about e that does not need a clock or the
// chain: field sizes, the kind and the TTL range. It does not verify the
// signature.
func Validate(e *Envelope) error {
	if e == nil {
		return fmt.Errorf("%w: envelope is missing", ErrInvalidEnvelope)
	}
	if len(e.To) != RecipientSize {
		return invalid("to", "want %d bytes (SHA-256 of the recipient key), got %d", RecipientSize, len(e.To))
	}
	if !ids.ValidUser(e.FromUser) {
		return invalid("from_user", "want "+ids.UserRule+", got %q", e.FromUser)
	}
	if !ids.ValidDevice(e.FromDevice) {
		return invalid("from_device", "want "+ids.DeviceRule+", got %q", e.FromDevice)
	}
	if len(e.MeetingId) != MeetingIDSize {
		return invalid("meeting_id", "want %d bytes, got %d", MeetingIDSize, len(e.MeetingId))
	}
	if e.Kind != KindMeetingKey && e.Kind != KindSignal && e.Kind != KindNotice {
		return invalid("kind", "want %d (meeting key), %d (signal) or %d (notice), got %d; other kinds are reserved", KindMeetingKey, KindSignal, KindNotice, e.Kind)
	}
	if len(e.Body) == 0 || len(e.Body) > MaxBodySize {
		return invalid("body", "want 1 to %d bytes, got %d", MaxBodySize, len(e.Body))
	}
	if e.CreatedAtMs <= 0 {
		return invalid("created_at_ms", "want a positive Unix time in milliseconds, got %d", e.CreatedAtMs)
	}
	if e.TtlSeconds < 1 || e.TtlSeconds > MaxTTLSeconds {
		return invalid("ttl_seconds", "want 1 to %d, got %d", MaxTTLSeconds, e.TtlSeconds)
	}
	if len(e.Sig) != SignatureSize {
		return invalid("sig", "want %d bytes (Ed25519), got %d", SignatureSize, len(e.Sig))
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidEnvelope, field, fmt.Sprintf(format, args...))
}
