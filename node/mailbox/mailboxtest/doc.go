// Package mailboxtest helps test code that uses the mailbox, the way
// net/http/httptest helps test HTTP: in-memory device keys standing in for
// x/identity, a settable clock, signed envelopes, recipients that answer
// challenges, and real mailboxes served over gRPC on loopback — alone or
// gossiping over real CometBFT p2p switches.
//
// Everything it starts is stopped by the test's Cleanup. It is for tests
// only: its keys are generated in memory and nothing in it is hardened.
package mailboxtest
