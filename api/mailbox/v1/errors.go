package mailboxv1

import "errors"

// Errors of this package. Each error returned wraps one of them with %w and
// names the field and the reason, so callers test with errors.Is and can
// show the message to people.
var (
	// ErrInvalidEnvelope: an envelope field of the wrong size or value.
	ErrInvalidEnvelope = errors.New("mailbox: invalid envelope")
	// ErrInvalidRecipientKey: recipient_pk is not an MLKEM768-X25519 public key.
	ErrInvalidRecipientKey = errors.New("mailbox: invalid recipient public key")
	// ErrInvalidChallenge: a challenge response with fields of the wrong
	// size, a private key of another KEM, or an answer that does not open.
	ErrInvalidChallenge = errors.New("mailbox: invalid challenge")
	// ErrMalformedRequest: a request that does not decode as the RPC's
	// message, or a TURN credential request with a field of the wrong size
	// or value.
	ErrMalformedRequest = errors.New("mailbox: malformed request")
	// ErrRelayDisabled: the node does not run a TURN relay, or does not
	// give credentials for it; ask another node.
	ErrRelayDisabled = errors.New("mailbox: this node does not relay")
	// ErrMediaRelayDisabled: the node runs no media relay; ask another
	// node.
	ErrMediaRelayDisabled = errors.New("mailbox: this node runs no media relay")
	// ErrBadOffer: the media relay cannot take the offer (it breaks the
	// relay's wire contract).
	ErrBadOffer = errors.New("mailbox: the media relay refused the offer")
	// ErrRelayFull: the media relay carries as many sessions as it may,
	// overall or for the meeting; ask another node.
	ErrRelayFull = errors.New("mailbox: the media relay is full")
)
