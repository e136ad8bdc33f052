package keyschedule

import "errors"

// Errors returned by this package. Every error it returns wraps one or two
// of these with %w and says which field, member or epoch it is about, so
// callers test with errors.Is and show the message to people.
var (
	// ErrInvalidContext: a chain ID that is empty or longer than
	// MaxChainIDLen, a meeting ID that is not MeetingIDSize bytes or a roster
	// hash that is not RosterHashSize bytes.
	ErrInvalidContext = errors.New("keyschedule: invalid context")
	// ErrInvalidKey: ephemeral key bytes of the wrong length or that the KEM
	// rejects, or a key of another KEM.
	ErrInvalidKey = errors.New("keyschedule: invalid ephemeral key")
	// ErrInvalidArgument: any other caller mistake (a meeting key of the
	// wrong length, a leader without a usable Ed25519 signer, an incomplete
	// Expectation).
	ErrInvalidArgument = errors.New("keyschedule: invalid argument")
	// ErrSealFailed: HPKE or the leader's signer failed while sealing (for
	// example a signer backed by a keystore that refused).
	ErrSealFailed = errors.New("keyschedule: cannot seal meeting key")
	// ErrTooManyRecipients: SealAll was given more than MaxRecipients members.
	ErrTooManyRecipients = errors.New("keyschedule: too many recipients")

	// ErrTruncated: envelope bytes end before the field being read.
	ErrTruncated = errors.New("keyschedule: envelope truncated")
	// ErrEnvelopeTooLarge: envelope bytes longer than MaxEnvelopeSize.
	ErrEnvelopeTooLarge = errors.New("keyschedule: envelope too large")
	// ErrTrailingData: bytes left over after the signature.
	ErrTrailingData = errors.New("keyschedule: trailing data after envelope")
	// ErrUnsupportedVersion: an envelope version other than EnvelopeVersion.
	ErrUnsupportedVersion = errors.New("keyschedule: unsupported envelope version")
	// ErrMalformedEnvelope: a field with a forbidden length or value.
	ErrMalformedEnvelope = errors.New("keyschedule: malformed envelope")

	// ErrWrongContext: the envelope is for another chain, meeting, epoch or
	// roster than the one on chain (this is also how a replayed envelope of an
	// old epoch is caught).
	ErrWrongContext = errors.New("keyschedule: envelope for another context")
	// ErrNotForMe: the envelope's recipient key hash is not the hash of our
	// ephemeral public key.
	ErrNotForMe = errors.New("keyschedule: envelope not addressed to this device")
	// ErrNotLeader: the envelope names a sender other than the epoch's leader.
	ErrNotLeader = errors.New("keyschedule: envelope not from the meeting leader")
	// ErrBadSignature: the leader's Ed25519 signature does not verify.
	ErrBadSignature = errors.New("keyschedule: bad envelope signature")
	// ErrDecrypt: HPKE decapsulation or AEAD decryption failed.
	ErrDecrypt = errors.New("keyschedule: cannot decrypt meeting key")
	// ErrCommitmentMismatch: the decrypted key does not match the commitment
	// on chain: the leader gave members different keys, or the chain and the
	// envelope disagree.
	ErrCommitmentMismatch = errors.New("keyschedule: meeting key does not match the on-chain commitment")

	// ErrUnknownEpoch: no key was ever installed for the epoch.
	ErrUnknownEpoch = errors.New("keyschedule: unknown epoch")
	// ErrKeyErased: the epoch's key existed and has been erased.
	ErrKeyErased = errors.New("keyschedule: epoch key erased")
	// ErrStaleEpoch: Install of an epoch that is not newer than the current
	// one (with a different key).
	ErrStaleEpoch = errors.New("keyschedule: epoch not newer than current")
	// ErrStoreClosed: Install after EraseAll; the meeting has ended.
	ErrStoreClosed = errors.New("keyschedule: key store closed")
)
