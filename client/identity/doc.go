// Package identity is the device side of x/identity: it signs the device
// signatures the chain verifies (with sign bytes from x/identity/types, the
// one definition shared with the chain), sends the transactions through a
// Chain, audits a user's on-chain devices against the devices this
// person knows, and links a new device the messenger way (link.go: a link
// token and verification code; linkflow.go: make, check, approve, wait).
//
// It never sees a device's private key directly: keys sign through the
// Signer interface (client/keystore's DeviceKey implements it).
package identity
