// Package e2e checks a running parleyd's mailbox end to end: devices
// registered, approved and revoked on its chain through client/identity,
// envelopes posted and subscribed over the mailbox port. It exercises what
// the in-process tests replace with fakes — the app's device keys
// (node.AppDeviceKeys) and the start wiring. Its test is skipped unless
// PARLEY_MAILBOX_ADDR is set, along with the variables
// `scripts/localnet.sh env` prints:
//
//	eval "$(scripts/localnet.sh env)"
//	PARLEY_MAILBOX_ADDR=127.0.0.1:26680 go test ./node/mailbox/e2e
package e2e
