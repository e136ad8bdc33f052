package mailbox

import "errors"

// Errors of the mailbox. Every error it returns wraps one of these (or one
// of mailboxv1's) with %w and says which field or limit it is about; the
// gRPC server maps them to status codes and named reasons in status.go.
var (
	// ErrDuplicate: the node already holds an envelope with this ID.
	ErrDuplicate = errors.New("mailbox: duplicate envelope")
	// ErrExpired: created_at_ms + ttl_seconds has passed by the node's clock.
	ErrExpired = errors.New("mailbox: envelope expired")
	// ErrFromFuture: created_at_ms is further ahead of the node's clock than
	// the allowed skew.
	ErrFromFuture = errors.New("mailbox: envelope created in the future")
	// ErrStoreFull: the store holds as many envelopes or bytes as allowed.
	ErrStoreFull = errors.New("mailbox: store full")
	// ErrSenderQuota: the sender device holds as many stored envelopes or
	// bytes as one sender may.
	ErrSenderQuota = errors.New("mailbox: sender over its storage quota")
	// ErrRateLimited: the sender device posts faster than its token bucket allows.
	ErrRateLimited = errors.New("mailbox: sender rate limited")
	// ErrUnknownSender: the chain has no active device (from_user,
	// from_device): it never existed or was revoked. DeviceKeys
	// implementations wrap it.
	ErrUnknownSender = errors.New("mailbox: sender device unknown or revoked")
	// ErrBadSignature: sig does not verify with the sender device's key.
	ErrBadSignature = errors.New("mailbox: bad envelope signature")
	// ErrKeysUnavailable: the chain state could not be read (for example
	// before the first block); the envelope may be fine.
	ErrKeysUnavailable = errors.New("mailbox: device keys unavailable")
	// ErrChallengeFailed: a challenge that is unknown, expired, already
	// redeemed, or answered wrongly. The cases are not told apart, so that a
	// caller learns nothing about other clients' challenges.
	ErrChallengeFailed = errors.New("mailbox: challenge failed")
	// ErrTooManyChallenges: as many challenges are outstanding as allowed.
	ErrTooManyChallenges = errors.New("mailbox: too many outstanding challenges")
	// ErrTooManySubscribers: as many subscriptions are open as allowed.
	ErrTooManySubscribers = errors.New("mailbox: too many subscribers")
	// ErrSlowSubscriber: a subscriber fell so far behind that its buffer
	// filled; it is dropped and should subscribe again.
	ErrSlowSubscriber = errors.New("mailbox: subscriber too slow")
	// ErrStaleRequest: a TURN credential request whose created_at_ms is
	// outside the node's window.
	ErrStaleRequest = errors.New("mailbox: request outside the time window")
	// ErrReplayedRequest: a TURN credential request with a (device, nonce)
	// the node already accepted within the window.
	ErrReplayedRequest = errors.New("mailbox: request replayed")
	// ErrTooManyRequests: the replay window holds as many nonces as allowed.
	ErrTooManyRequests = errors.New("mailbox: too many requests")
	// ErrNotMember: the node relays only for members of a current roster,
	// and the device is not in the current epoch of the named meeting.
	ErrNotMember = errors.New("mailbox: device not in a current roster")
	// ErrClosed: the mailbox is stopping.
	ErrClosed = errors.New("mailbox: closed")
)
