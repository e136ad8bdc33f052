package mailboxv1

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo detail that every
// error status of the mailbox carries. Its reason names the error, so that
// a client tells errors apart without reading messages, which are for
// people.
const ErrorDomain = "mailbox.parley.v1"

// Reasons of the mailbox's errors, as ErrorInfo.reason. The gRPC code of
// each is in PROTOCOL.md section 6.
const (
	// The request could not be decoded, or a field has the wrong size
	// (INVALID_ARGUMENT).
	ReasonMalformedRequest = "MALFORMED_REQUEST"
	// An envelope field of the wrong size or value (INVALID_ARGUMENT).
	ReasonInvalidEnvelope = "INVALID_ENVELOPE"
	// recipient_pk is not an MLKEM768-X25519 key (INVALID_ARGUMENT).
	ReasonInvalidRecipientKey = "INVALID_RECIPIENT_KEY"
	// A challenge of the wrong shape (INVALID_ARGUMENT).
	ReasonInvalidChallenge = "INVALID_CHALLENGE"
	// The envelope's TTL has passed (INVALID_ARGUMENT).
	ReasonExpired = "EXPIRED"
	// created_at_ms too far ahead of the node's clock (INVALID_ARGUMENT).
	ReasonFromFuture = "FROM_FUTURE"
	// A TURN request's created_at_ms outside the node's window (INVALID_ARGUMENT).
	ReasonStaleRequest = "STALE_REQUEST"
	// The signature does not verify (PERMISSION_DENIED).
	ReasonBadSignature = "BAD_SIGNATURE"
	// The device is not on chain or revoked (PERMISSION_DENIED).
	ReasonUnknownSender = "UNKNOWN_SENDER"
	// A subscription challenge failed (PERMISSION_DENIED).
	ReasonChallengeFailed = "CHALLENGE_FAILED"
	// A TURN request seen before (PERMISSION_DENIED).
	ReasonReplayedRequest = "REPLAYED_REQUEST"
	// The node relays only for members of a current roster (PERMISSION_DENIED).
	ReasonNotMember = "NOT_MEMBER"
	// A limit was reached (RESOURCE_EXHAUSTED).
	ReasonRateLimited        = "RATE_LIMITED"
	ReasonStoreFull          = "STORE_FULL"
	ReasonSenderQuota        = "SENDER_QUOTA"
	ReasonTooManyChallenges  = "TOO_MANY_CHALLENGES"
	ReasonTooManySubscribers = "TOO_MANY_SUBSCRIBERS"
	ReasonSlowSubscriber     = "SLOW_SUBSCRIBER"
	ReasonTooManyRequests    = "TOO_MANY_REQUESTS"
	// The node cannot read the chain yet (UNAVAILABLE).
	ReasonKeysUnavailable = "KEYS_UNAVAILABLE"
	// The mailbox is stopping (UNAVAILABLE).
	ReasonClosed = "CLOSED"
	// The node does not relay (UNIMPLEMENTED).
	ReasonRelayDisabled = "RELAY_DISABLED"
	// The node runs no media relay (UNIMPLEMENTED).
	ReasonMediaRelayDisabled = "MEDIA_RELAY_DISABLED"
	// The media relay refused the offer (INVALID_ARGUMENT).
	ReasonBadOffer = "BAD_OFFER"
	// The media relay is full (RESOURCE_EXHAUSTED).
	ReasonRelayFull = "RELAY_FULL"
)

// Reason returns the reason of a mailbox error status, or "" when err is
// not a status from a mailbox (a transport error, a deadline).
func Reason(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info.GetReason()
		}
	}
	return ""
}
