package turn

import "errors"

// Errors of the TURN server. Every error it returns wraps one of these
// with %w and says which field, limit or credential it is about.
var (
	// ErrInvalidConfig: a Config field is missing or out of range.
	ErrInvalidConfig = errors.New("turn: invalid config")
	// ErrBadCredential: a username that is not "<expiry>:<opaque ID>", or
	// whose realm is not the server's.
	ErrBadCredential = errors.New("turn: malformed credential")
	// ErrCredentialExpired: the credential's expiry has passed (plus the
	// refresh grace, for requests on an existing allocation).
	ErrCredentialExpired = errors.New("turn: credential expired")
	// ErrQuota: a device or the node holds as many allocations as allowed.
	ErrQuota = errors.New("turn: allocation quota reached")
	// ErrPeerRefused: a permission or channel for a peer address the relay
	// never sends to.
	ErrPeerRefused = errors.New("turn: peer address refused")
	// ErrTCPRelay: a TCP allocation (RFC 6062); the relay carries UDP only.
	ErrTCPRelay = errors.New("turn: TCP relaying is not offered")
)
