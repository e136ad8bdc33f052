// Package identity is the identity registry module: user → device →
// Ed25519 key, where a device is added only with the signature of an
// existing active device of the same user, and every change is appended to
// the user's history. Its contract is README.md beside this file.
//
// It must never accept a device signature whose sign bytes do not come
// from types (the one definition shared with the client), and never
// rewrite or prune a user's history.
package identity
