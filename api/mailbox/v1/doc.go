// Package mailboxv1 is the API of the mailbox that every Parley node offers
// (DESIGN.md 7): the generated protobuf types and gRPC service of
// proto/parley/mailbox/v1, and the definitions both sides must share byte
// for byte — the sign bytes, the envelope ID, validation and the
// subscription challenge. The node (node/mailbox) and the client import it;
// of Parley's own packages it imports only internal/signbytes (the
// encoder x/identity's sign bytes use) and internal/ids (the ID syntax),
// never a chain module.
//
// # Envelope
//
// An envelope is a sealed message from a sender device to the holder of an
// ephemeral key:
//
//	to             32 bytes   SHA-256 of the recipient's ephemeral public key
//	                          (hpke.PublicKey.Bytes of an MLKEM768-X25519 key)
//	from_user      string     sender's user ID (x/identity, 3-32 of [a-z0-9._-])
//	from_device    string     sender's device ID (1-32 of [a-z0-9._-])
//	meeting_id     16 bytes
//	kind           1 = meeting key envelope, 2 = signalling; others reserved
//	body           1..65535 bytes of ciphertext the node never reads
//	created_at_ms  sender's clock, Unix milliseconds, > 0
//	ttl_seconds    1..600
//	sig            64 bytes, Ed25519 by the sender device's active key
//
// A node accepts an envelope when Validate passes, the signature verifies
// with the key x/identity holds for (from_user, from_device) and that device
// is not revoked, created_at_ms is at most 5 minutes ahead of the node's
// clock, and created_at_ms + ttl_seconds is still in the future. It keeps
// the envelope until created_at_ms + ttl_seconds by its own clock, and not a
// moment longer.
//
// # Sign bytes
//
// The signature covers SignBytes(chain_id, e), x/identity's encoding
// (internal/signbytes) in which every byte string is prefixed by its length
// as a 2-byte big-endian integer and every number is 8 bytes big-endian:
//
//	u16(26) "parley/v1/mailbox/envelope"
//	u16(len(chain_id))    chain_id
//	u16(32)               to
//	u16(len(from_user))   from_user
//	u16(len(from_device)) from_device
//	u16(16)               meeting_id
//	u64(kind)
//	u16(len(body))        body
//	u64(created_at_ms)    as two's complement
//	u64(ttl_seconds)
//
// Because of the 2-byte prefix a body is at most 65535 bytes (MaxBodySize),
// one less than 64 KiB.
//
// # Envelope ID
//
// ID(e) = SHA-256 of the deterministic protobuf encoding of the whole
// envelope (gogoproto Marshal: fields in field-number order, fields holding
// their zero value omitted, no unknown fields), signature included. Nodes
// deduplicate by it, and Post returns it. A node that receives an envelope
// it already holds neither stores nor forwards it again, which is what ends
// gossip loops.
//
// # Subscription challenge
//
// To read the envelopes for a key, a client proves it holds the private
// half. Challenge(recipient_pk) makes the node draw a 16-byte challenge_id
// and a 32-byte answer, both random, and seal the answer to recipient_pk
// with HPKE (RFC 9180) in base mode with KEM MLKEM768-X25519 (0x647a), KDF
// HKDF-SHA256 (0x0001) and AEAD AES-256-GCM (0x0002):
//
//	info            = "parley/v1/mailbox/challenge" || challenge_id   (43 bytes)
//	enc, ctx        = SetupBaseS(recipient_pk, info)
//	ciphertext      = ctx.Seal(aad = "", answer)                      (48 bytes)
//
// The response carries challenge_id, enc (1120 bytes) and ciphertext. The
// client opens it (OpenChallenge) and calls Subscribe(challenge_id, answer).
// A challenge is single-use — redeemed by the first Subscribe, right or
// wrong — and expires after 30 seconds. The subscription then receives every
// stored, unexpired envelope whose to is SHA-256(recipient_pk), optionally
// only those of one meeting, followed by new ones as they arrive. Clients
// deduplicate by ID: after a reconnect the stored envelopes come again.
//
// # TURN credential request
//
// A device asks a node for a credential for the node's TURN relay
// (PROTOCOL.md section 11) with TurnCredentials. The request carries user,
// device, created_at_ms (the device's clock, Unix milliseconds), a 16-byte
// random nonce, an optional 16-byte meeting_id, and sig, the device's
// Ed25519 signature over TURNSignBytes(chain_id, request):
//
//	u16(34) "parley/v1/mailbox/turn-credentials"
//	u16(len(chain_id))  chain_id
//	u16(len(user))      user
//	u16(len(device))    device
//	u64(created_at_ms)  as two's complement
//	u16(16)             nonce
//	u16(len(meeting_id)) meeting_id   (0 or 16 bytes)
//
// The node answers only if created_at_ms is within its window of its own
// clock (30 seconds either way by default), the signature verifies with
// the key x/identity holds for the device, which must not be revoked, and
// it has not accepted the same (user, device, nonce) within the window. A
// node that relays only for members of a current roster also needs
// meeting_id to name an open meeting whose current epoch lists the device.
//
// # Media relay connection
//
// A device of a meeting's current roster connects to the node's media
// relay (node/sfu; PROTOCOL.md section 12) with RelayConnect. The request
// carries user, device, created_at_ms, a 16-byte random nonce, the 16-byte
// meeting_id, offer_sdp (the complete WebRTC offer, at most MaxOfferSize
// bytes) and sig, the device's Ed25519 signature over
// RelayConnectSignBytes(chain_id, request):
//
//	u16(31) "parley/v1/mailbox/relay-connect"
//	u16(len(chain_id))  chain_id
//	u16(len(user))      user
//	u16(len(device))    device
//	u64(created_at_ms)  as two's complement
//	u16(16)             nonce
//	u16(16)             meeting_id
//	u16(len(offer_sdp)) offer_sdp
//
// The node answers only if created_at_ms is within its window, the
// signature verifies with the device's unrevoked key on chain, the (user,
// device, nonce) is new within the window, and the meeting is open with
// the device in its current epoch's roster (always required: the relay
// serves members only). The answer is the relay's complete answer SDP.
//
// # Errors
//
// Every error status carries a google.rpc.ErrorInfo detail with domain
// ErrorDomain and a reason (the Reason* constants; Reason reads it). A
// request the node cannot decode is INVALID_ARGUMENT, MALFORMED_REQUEST,
// never gRPC's generic INTERNAL.
//
// The proof restricts who may pull envelopes (and so learn their metadata);
// confidentiality rests on the HPKE sealing of the bodies, which the mailbox
// never touches. The mailbox port speaks plain gRPC; expose it through TLS
// where the network between client and node is not trusted.
package mailboxv1
