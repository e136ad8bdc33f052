package framesig

import "errors"

// Errors of this package. Every error it returns, and every cut's reason,
// wraps one of these with %w and says which counter, KID or field it is
// about, so callers test with errors.Is.
var (
	// ErrForged: a cut. A validly signed batch lists another digest for a
	// counter than the frame received under it, or two different frames
	// arrived under one counter.
	ErrForged = errors.New("framesig: frame differs from the one its sender signed")
	// ErrUnsigned: a cut. A frame received more than MissingAfter ago that
	// no valid batch covers, or more frames pending than the bounds allow.
	ErrUnsigned = errors.New("framesig: frame not signed in time")
	// ErrEquivocated: a cut. Two validly signed batches list different
	// digests for one counter.
	ErrEquivocated = errors.New("framesig: sender signed two frames under one counter")

	// ErrMalformed: a message that is not a version 1 batch and signature
	// of the right length with n in 1..MaxBatch and a counter range that
	// does not wrap.
	ErrMalformed = errors.New("framesig: malformed signature message")
	// ErrUnknownSender: keyFor knows no device key (of Ed25519 size) for
	// the message's (epoch, KID).
	ErrUnknownSender = errors.New("framesig: no roster member sends under this KID")
	// ErrBadSignature: the signature does not verify under the device key
	// of the member that sends under the message's (epoch, KID), for this
	// chain and meeting.
	ErrBadSignature = errors.New("framesig: bad signature")

	// ErrInvalidArgument: a caller mistake in NewSigner, NewVerifier or an
	// Option: a key that is not Ed25519, a chain ID or meeting ID of the
	// wrong length, a limit out of range.
	ErrInvalidArgument = errors.New("framesig: invalid argument")
	// ErrSigning: the device key failed to sign a batch, or gave a
	// signature of the wrong size. The batch is lost: its frames go
	// unsigned and receivers will cut this sender.
	ErrSigning = errors.New("framesig: signing failed")
)
