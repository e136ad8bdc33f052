package call

import "errors"

// Errors returned by this package. Every error wraps one of these with %w and
// names the field, member or session it is about; test with errors.Is.
var (
	// ErrInvalidConfig: a Config field is missing or out of range.
	ErrInvalidConfig = errors.New("call: invalid config")
	// ErrInvalidEpoch: an Epoch with no or too many members, a duplicate
	// member, a key or member field of the wrong size.
	ErrInvalidEpoch = errors.New("call: invalid epoch")
	// ErrStaleEpoch: SetEpoch with an epoch not newer than the current one.
	ErrStaleEpoch = errors.New("call: epoch not newer than current")
	// ErrNotInRoster: SetEpoch with a roster that does not list this device.
	ErrNotInRoster = errors.New("call: this device is not in the roster")
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("call: engine closed")
	// ErrRunning: Run was called while the engine was already running.
	ErrRunning = errors.New("call: engine already running")

	// ErrMalformedSignal: signal bytes that are not a canonical encoding.
	ErrMalformedSignal = errors.New("call: malformed signal")
	// ErrOpenFailed: a sealed signal that HPKE cannot open: tampered, sealed
	// to another key, for another chain or meeting, or not a sealed body.
	ErrOpenFailed = errors.New("call: cannot open sealed signal")
	// ErrUnknownSender: a signal whose claimed sender is not in the current
	// roster.
	ErrUnknownSender = errors.New("call: signal sender not in roster")
	// ErrBadSignature: the signal's Ed25519 signature does not verify under
	// the sender's device key from the roster.
	ErrBadSignature = errors.New("call: bad signal signature")
	// ErrMisaddressed: a signal for another device or meeting, or whose
	// signed sender differs from the one the transport reports.
	ErrMisaddressed = errors.New("call: signal not addressed to this device")
	// ErrFingerprintMismatch: the signed DTLS fingerprint differs from the
	// SDP's a=fingerprint, or from the one the session started with.
	ErrFingerprintMismatch = errors.New("call: DTLS fingerprint mismatch")
	// ErrReplayedSignal: a (sender, session, seq) already accepted, or too
	// old to tell apart from one.
	ErrReplayedSignal = errors.New("call: replayed signal")
	// ErrStaleSignal: a signal of an epoch older than the previous one.
	ErrStaleSignal = errors.New("call: signal of a stale epoch")
	// ErrUnexpectedSignal: a signal that does not fit the session: an offer
	// from the member that should answer, an answer to no offer, too many
	// sessions or queued candidates.
	ErrUnexpectedSignal = errors.New("call: unexpected signal")
	// ErrSignFailed: the device key could not sign or HPKE could not seal.
	ErrSignFailed = errors.New("call: cannot sign or seal signal")

	// ErrWrongSender: a media frame under the KID of another member than
	// the one the connection is with. Counted as an unknown KID.
	ErrWrongSender = errors.New("call: frame under another member's KID")

	// ErrUnsigned: a frame that came through the relay under a KID whose
	// frames this device cut: its sender's signatures over them failed or
	// never came (framesig). Counted as Unsigned.
	ErrUnsigned = errors.New("call: relayed frame not signed by its sender")

	// ErrUnsupportedMedia: a media file this package cannot read: not VP8
	// IVF, not Opus in Ogg, or Ogg pages holding several Opus packets.
	ErrUnsupportedMedia = errors.New("call: unsupported media file")
)
