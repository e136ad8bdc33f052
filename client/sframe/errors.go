package sframe

import "errors"

// Errors returned by this package. Every error it returns wraps one (or, for
// malformed input, two) of these with %w and says which field, KID or
// counter it is about, so callers test with errors.Is.
//
// The five frame-rejection reasons a receiver counts (see Stats) are
// ErrMalformed, ErrUnknownKID, ErrNoKey, ErrReplay and ErrAuthFailed.
var (
	// ErrMalformed: bytes that cannot be a frame or an SFrame header. It is
	// wrapped together with ErrTruncated or ErrNonMinimal when one of those
	// is the reason.
	ErrMalformed = errors.New("sframe: malformed frame")
	// ErrTruncated: the input ends before a field its header announces, or
	// is shorter than the authentication tag. Always returned inside
	// ErrMalformed, hence the short message.
	ErrTruncated = errors.New("truncated")
	// ErrNonMinimal: a KID or CTR not encoded in the fewest bytes, which RFC
	// 9605 section 4.3 forbids; accepting it would give one (KID, CTR) two
	// encodings and so two different AADs. Always returned inside
	// ErrMalformed.
	ErrNonMinimal = errors.New("non-minimal header encoding")

	// ErrAuthFailed: the AEAD tag does not verify: the ciphertext, header,
	// clear prefix or metadata was altered, or the key is wrong.
	ErrAuthFailed = errors.New("sframe: authentication failed")
	// ErrReplay: a counter this KID already delivered, or one too far
	// behind the newest to be told apart from a replay.
	ErrReplay = errors.New("sframe: replayed frame")
	// ErrUnknownKID: a KID that names no sender of the epoch it names (a
	// sender index outside the roster), or a frame for another KID than
	// the key it was given to.
	ErrUnknownKID = errors.New("sframe: unknown KID")
	// ErrNoKey: no key for the frame's epoch: none installed yet, an epoch
	// this side has not received, or one erased after its grace window or
	// by EraseAll.
	ErrNoKey = errors.New("sframe: no key for epoch")

	// ErrUnsupportedSuite: a cipher suite this package does not implement.
	ErrUnsupportedSuite = errors.New("sframe: unsupported cipher suite")
	// ErrUnsupportedCodec: a Codec value other than the ones declared here.
	ErrUnsupportedCodec = errors.New("sframe: unsupported codec")
	// ErrInvalidArgument: any other caller mistake: a meeting key of the
	// wrong length, an empty base key, a roster size out of range.
	ErrInvalidArgument = errors.New("sframe: invalid argument")
	// ErrStaleEpoch: SetEpoch with an epoch not newer than the current one.
	ErrStaleEpoch = errors.New("sframe: epoch not newer than current")
	// ErrClosed: SetEpoch or Encrypt after EraseAll; the meeting has ended.
	ErrClosed = errors.New("sframe: keys erased for good")
	// ErrCounterExhausted: the sender has used every counter of its KID;
	// going on would reuse a nonce. A new epoch gives a new KID.
	ErrCounterExhausted = errors.New("sframe: counter exhausted")
)
