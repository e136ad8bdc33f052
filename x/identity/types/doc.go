// Package types defines x/identity's messages, state types, registered
// errors, params, genesis validation and — shared with the client and
// x/meeting — the sign bytes of every device signature and the ID and key
// validation rules.
package types
