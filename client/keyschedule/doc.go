// Package keyschedule is the client's meeting key schedule (DESIGN.md §5):
// per-meeting ephemeral keys, the meeting key MK_e of each epoch, its
// on-chain commitment, the envelopes that carry MK_e from the leader to each
// member, the security code people compare, and the erasure of old keys.
//
// It is pure computation over bytes: it does no I/O, talks to no chain or
// mailbox, keeps no state outside EpochKeys, and reads the clock only in
// EpochKeys (through an injectable clock). It must never log, print or
// persist a meeting key, never return a meeting key that has not passed every
// check of Open, and never sign anything with the leader's device key but the
// envelope message defined below.
//
// Every byte layout below is normative: another implementation (the browser
// client, a future version) must produce and accept exactly these bytes.
// Notation: "a" || b is concatenation, u8 and u64_be are unsigned integers
// of 1 and 8 bytes (big-endian), string literals are their ASCII bytes with
// no terminator, and [n] is a field of exactly n bytes.
//
// # Suite
//
// HPKE (RFC 9180) in base mode with KEM MLKEM768-X25519 (X-Wing,
// draft-ietf-hpke-pq, KEM ID 0x647a), KDF HKDF-SHA256 (0x0001) and AEAD
// AES-256-GCM (0x0002), from Go's crypto/hpke. Signatures are Ed25519 (RFC
// 8032, pure). Hashes are SHA-256; MACs HMAC-SHA256.
//
// # Labels
//
// Every label is followed by ctx (below), so nothing computed for one
// chain, meeting, epoch or roster is valid for another:
//
//	"parley/v1/commit"       key commitment (HMAC message prefix)
//	"parley/v1/mk"           HPKE info of an envelope
//	"parley/v1/mk-envelope"  Ed25519 signature of an envelope
//	"parley/v1/code"         security code
//
// # Context
//
//	ctx = u8(len(chain_id)) || chain_id || meeting_id [16] || u64_be(epoch) || roster_hash [32]
//
// chain_id is 1 to 255 bytes (MaxChainIDLen); meeting_id is MeetingIDSize
// (16) bytes and roster_hash RosterHashSize (32) bytes, both as on chain.
// Anything else is ErrInvalidContext. ctx is 57 + len(chain_id) bytes.
// NewContext checks a context and encodes it once; Commit, Seal, SealAll,
// SecurityCode and Open then use that encoding as it is.
//
// # Ephemeral keys
//
// Each device makes one MLKEM768-X25519 key pair per meeting
// (GenerateEphemeralKey) and publishes the public key in its join request.
//
//	public key  [1216] = ML-KEM-768 encapsulation key [1184] || X25519 point [32]
//	private key [32]   = the seed both halves are derived from (SHAKE256, per
//	                     draft-ietf-hpke-pq); kept by the device only
//	key hash    [32]   = SHA-256(public key)
//
// The key hash (EphemeralKeyHash) identifies the recipient, in envelopes and
// as the mailbox's "to" (DESIGN.md §7).
//
// # Meeting key and commitment
//
// MK_e is 32 bytes from crypto/rand (NewMeetingKey), new for every epoch.
// The leader posts, with the epoch's roster,
//
//	key_commitment [32] = HMAC-SHA256(key = MK_e, msg = "parley/v1/commit" || ctx)
//
// # Envelope
//
// One envelope per member carries MK_e sealed to the member's ephemeral key.
// Version 1, in field order, with sizes in bytes:
//
//	offset          size  field
//	0               1     version = 0x01 (EnvelopeVersion)
//	1               57+L  ctx (L = len(chain_id), 1..255)
//	58+L            32    recipient_hash = SHA-256(recipient's ephemeral public key)
//	90+L            1     U = len(sender_user), 1..64 (MaxIDLen)
//	91+L            U     sender_user: the leader's user ID
//	91+L+U          1     D = len(sender_device), 1..64
//	92+L+U          D     sender_device: the leader's device ID
//	92+L+U+D        1120  enc: HPKE encapsulated key (EncSize) =
//	                      ML-KEM-768 ciphertext [1088] || X25519 ephemeral point [32]
//	1212+L+U+D      48    ciphertext: AES-256-GCM ciphertext of MK_e [32] || tag [16]
//	                      (SealedKeySize)
//	1260+L+U+D      64    signature: Ed25519 (SignatureSize)
//	1324+L+U+D            end
//
// The total is 1324 + L + U + D bytes: MinEnvelopeSize = 1327 and
// MaxEnvelopeSize = 1324 + 255 + 64 + 64 = 1707. Every length is fixed
// or given by a one-byte prefix, so the encoding is canonical.
//
//	header  = version || ctx || recipient_hash || u8(U) || sender_user || u8(D) || sender_device
//	info    = "parley/v1/mk" || ctx
//	enc, ciphertext = HPKE base-mode seal to the recipient's public key with
//	          info, aad = header, plaintext = MK_e (one message, sequence 0)
//	signature = Ed25519(leader's device key, "parley/v1/mk-envelope" || header || enc || ciphertext)
//
// The header is both the AAD and the start of the signed message, so the
// ciphertext cannot be moved to another header and no field is unsigned.
// Unmarshal refuses input longer than MaxEnvelopeSize before reading it
// (ErrEnvelopeTooLarge), input that ends inside a field (ErrTruncated),
// bytes after the signature (ErrTrailingData), another version
// (ErrUnsupportedVersion) and zero or over-long length prefixes
// (ErrMalformedEnvelope). In the mailbox an envelope is the body of a
// message to recipient_hash; the mailbox's own signature is separate.
//
// # Sealing and opening
//
// The leader seals for every member of the epoch's roster with SealAll, on
// runtime.GOMAXPROCS(0) goroutines, at most MaxRecipients (1,000) members
// per call. A member opens its envelope with Open, which checks, in order:
// the context fields against the chain's (ErrWrongContext, which also
// rejects an envelope replayed from another epoch), the recipient hash
// against its own key (ErrNotForMe), the sender against the epoch's leader
// (ErrNotLeader), the signature against the leader's device key from the
// chain (ErrBadSignature), the HPKE decryption (ErrDecrypt), and finally
// HMAC-SHA256(MK_e, "parley/v1/commit" || ctx) against the on-chain
// key_commitment, in constant time (ErrCommitmentMismatch). The last check
// is what catches a leader who gives different members different keys:
// only one key can match the commitment everyone sees.
//
// # Security code
//
//	d = SHA-256("parley/v1/code" || ctx || key_commitment)
//	group i (i = 0..5) = (d[5i] << 32 | d[5i+1] << 24 | d[5i+2] << 16 | d[5i+3] << 8 | d[5i+4]) mod 100000
//
// Each group is written as five decimal digits with leading zeros and the
// six groups are joined by single spaces (35 characters, e.g. "05980 43812
// 74570 82318 03010 67392"); d[30:32] is unused. Equal codes mean the same
// chain, meeting, epoch, roster and key. The code carries about 99.7 bits
// (6 × log2(100000)); the bias of reducing 40 bits mod 100000 is below 1e-7.
//
// # Erasure
//
// EpochKeys holds MK_e per epoch. Install makes a key current and gives the
// previous current key a deadline of now + grace (DefaultGrace = 2 s) for
// frames still in flight; a key past its deadline is overwritten with zeros
// and dropped by Sweep, by the next Install, Current or Get, or, with
// WithAutoSweep, by a timer. EraseAll zeroes every key at meeting end and
// closes the store. Get of an erased epoch is ErrKeyErased, of an epoch
// never installed ErrUnknownEpoch. Keys go in and come out as copies: a
// caller clears its own copies when done. Erasure is best effort, as in any
// garbage-collected language: temporary copies inside crypto/hmac,
// crypto/hpke and on goroutine stacks are not tracked, and the expanded
// state inside an hpke.PrivateKey cannot be zeroed from outside; drop the
// ephemeral private key with the meeting.
//
// # Test vector
//
//	chain_id       "parley-vectors"
//	meeting_id     00112233445566778899aabbccddeeff
//	epoch          42
//	roster_hash    202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
//	MK_e           000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
//	ctx            0e7061726c65792d766563746f7273 00112233445566778899aabbccddeeff
//	               000000000000002a 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
//	key_commitment 7aba05e5a620e73179edbaf7140b45ec191d4c33448883309c1de398914445d0
//	code digest d  261c754a1c23e79652a476f3938e0a87fc46c8ceddd0072aa2903650fae0f8a4
//	security code  05980 43812 74570 82318 03010 67392
package keyschedule
