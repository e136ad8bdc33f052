// Package turn is the STUN and TURN server a Parley node can run
// (DESIGN.md 6, PROTOCOL.md section 11), so that two members behind NATs
// reach each other — directly, through the address STUN shows them, or
// through a relay port on the node — with no party outside the network
// to trust: media stays SFrame-encrypted end to end, and DTLS-SRTP hop by
// hop, so the relay carries ciphertext only.
//
// It is pion/turn with Parley's rules around it:
//
//   - Credentials: the time-limited scheme TURN servers commonly accept
//     (coturn's use-auth-secret, the "REST API for access to TURN
//     services" draft): username "<expiry Unix seconds>:<opaque ID>",
//     password base64(HMAC-SHA1(secret, username)). The node's mailbox
//     gives them out (node/mailbox, TurnCredentials) to devices that
//     prove they are registered and not revoked; the opaque ID is a keyed
//     hash of the device, so the credential, which travels in the clear in
//     STUN messages, does not name it. Nothing is stored per credential.
//   - Limits (quota.go): allocations per device and in total, and a
//     bandwidth per allocation and per device, enforced on the relay
//     sockets; packets over a budget are dropped, never queued.
//   - Peers (permission.go): the relay sends only to global unicast
//     addresses — never to loopback, link-local, multicast or (unless the
//     operator allows it) private ranges — and relays UDP only.
//
// The parts: Config (with withDefaults), the credential scheme
// (credential.go: Issue and the check behind the AuthHandler), the secret
// file (secret.go), quotas and the relay socket wrapper (quota.go), and
// Server, which opens the listeners, runs pion's server and answers STUN
// Binding requests for anyone.
//
// What the server must never do:
//
//   - hold a key that opens media, or look into what it relays;
//   - create an allocation for a credential that is expired, malformed, or
//     whose password is not the HMAC of its username under the node's
//     secret; keep an allocation alive on an old credential past
//     Config.RefreshGrace;
//   - let one device hold more than its allocations or bandwidth, or the
//     node more than its total;
//   - relay to the node's own loopback or private networks, or open TCP
//     connections on a client's behalf;
//   - log or keep credentials, or anything per device beyond the
//     allocations it currently holds.
//
// Tests inject the network (Config.Net, a pion vnet) and the clock.
package turn
