// Package types defines x/meeting's messages, state types, registered
// errors, params, genesis validation and — shared with the client — the
// sign bytes, the canonical roster order and the roster hash.
package types
