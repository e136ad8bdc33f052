package mailboxv1

import (
	"crypto/sha256"
	"time"
)

// Bounds and identifiers of mailbox envelopes. Nodes reject envelopes
// outside them; clients should check before posting.
const (
	// MaxBodySize is the largest body in bytes: 64 KiB less one, because the
	// sign bytes prefix every field with a 2-byte length (see doc.go).
	MaxBodySize = 65535
	// MaxTTLSeconds is the longest ttl_seconds a node accepts.
	MaxTTLSeconds = 600
	// MaxTTL is MaxTTLSeconds as a duration.
	MaxTTL = MaxTTLSeconds * time.Second

	// RecipientSize is the size of Envelope.to: SHA-256 of the recipient's
	// ephemeral public key.
	RecipientSize = sha256.Size
	// MeetingIDSize is the size of a meeting ID.
	MeetingIDSize = 16
	// SignatureSize is the size of an Ed25519 signature.
	SignatureSize = 64
	// MaxIDLength bounds from_user and from_device (x/identity allows 32).
	MaxIDLength = 32
	// IDSize is the size of an envelope ID (SHA-256).
	IDSize = sha256.Size

	// MaxEnvelopeSize bounds the protobuf encoding of a valid envelope with
	// room to spare: the body plus the other fields and their tags.
	MaxEnvelopeSize = MaxBodySize + 1024
	// MaxGossipMessageSize bounds a GossipMessage on the p2p channel.
	MaxGossipMessageSize = MaxEnvelopeSize + 16
)

// Envelope kinds. Other values are reserved: nodes reject them so that a
// new kind is introduced deliberately, with an upgrade of the nodes.
const (
	// KindMeetingKey is a meeting key envelope from the leader (DESIGN.md 5).
	KindMeetingKey uint32 = 1
	// KindSignal is WebRTC signalling between two participants.
	KindSignal uint32 = 2
	// KindNotice is a leader's signed notice to a requester it does not
	// admit (the meeting is full, a wrong passcode, removed earlier).
	KindNotice uint32 = 3
)

// ChannelID is the CometBFT p2p channel on which nodes gossip envelopes.
// CometBFT v0.40 uses 0x00 (PEX), 0x20-0x23 (consensus), 0x30 (mempool),
// 0x38 (evidence), 0x40 (blocksync) and 0x60-0x61 (state sync).
const ChannelID byte = 0x70

// Domain separation strings. Each names one use of a signature or of an
// HPKE context, so that bytes made for one can never pass for another.
const (
	// SignDomain starts the sign bytes of an envelope.
	SignDomain = "parley/v1/mailbox/envelope"
	// ChallengeDomain starts the HPKE info of a subscription challenge.
	ChallengeDomain = "parley/v1/mailbox/challenge"
)

// Subscription challenge sizes.
const (
	// ChallengeIDSize is the size of ChallengeResponse.challenge_id.
	ChallengeIDSize = 16
	// ChallengeAnswerSize is the size of the sealed answer.
	ChallengeAnswerSize = 32
	// RecipientPublicKeySize is the size of an MLKEM768-X25519 public key as
	// crypto/hpke serialises it: ML-KEM-768 encapsulation key (1184 bytes)
	// followed by the X25519 point (32 bytes).
	RecipientPublicKeySize = 1216
)
