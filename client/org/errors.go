package org

import "errors"

// Sentinel errors.
var (
	// ErrBadGrant means the grant asked for is not well formed: an unknown
	// module, a bad spend limit or an expiry in the past.
	ErrBadGrant = errors.New("invalid fee grant")
	// ErrNoGranter means a grant needs the organisation's paying account
	// and none is set.
	ErrNoGranter = errors.New("no organisation account: set --from to the organisation's keyring account")
)
