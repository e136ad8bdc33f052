// Package mailbox is the store-and-forward mailbox every Parley node
// offers (DESIGN.md 7). Devices post sealed envelopes — meeting keys and
// signalling — for the holder of an ephemeral key; the node checks the
// sender's signature against its active device key on chain, keeps the
// envelope in memory until its TTL runs out, gossips it to its peers over
// a CometBFT p2p channel, and streams it to subscribers who prove they hold
// the recipient key. The wire format and the bytes both sides share are in
// api/mailbox/v1.
//
// The parts, each usable alone:
//
//   - Store: envelopes in memory, deduplicated by ID, indexed by recipient,
//     bounded overall and per sender, swept at expiry, feeding live
//     subscriptions.
//   - Verifier: Validate plus the Ed25519 signature against DeviceKeys.
//   - RateLimiter: a token bucket per sender device.
//   - Intake: the single way in, shared by Post and gossip.
//   - Server: the gRPC service (Post, Challenge, Subscribe, TurnCredentials),
//     every error named by a reason (status.go), every request that does
//     not decode answered MALFORMED_REQUEST (decode.go).
//   - relay: TurnCredentials behind EnableRelay: a signed, fresh,
//     single-use request from an active device (and, if the node wants, a
//     member of a current roster) gets a credential from the node's TURN
//     server (node/turn) through a CredentialIssuer.
//   - Reactor: the CometBFT p2p reactor on mailboxv1.ChannelID.
//   - Mailbox: all of them assembled, with Run and Serve.
//
// What the mailbox must never do:
//
//   - learn an envelope's contents: it never holds a key that opens a body,
//     never parses one, and logs no bodies;
//   - keep anything past its TTL: envelopes are deleted when
//     created_at_ms + ttl_seconds passes by the node's clock, nothing is
//     written to disk, and an expired envelope is never served;
//   - serve an envelope to anyone who has not just proved, with a
//     single-use challenge, that they hold the recipient key;
//   - forward an envelope it has not verified, or one it already had —
//     the duplicate check is what ends gossip loops;
//   - give a TURN credential for a request it has not verified against
//     the device's active key, or for the same (device, nonce) twice; and
//     keep anything about credential requests but their nonces, for no
//     longer than the request window.
//
// Package mailboxtest has the fakes and in-process networks for tests.
package mailbox
