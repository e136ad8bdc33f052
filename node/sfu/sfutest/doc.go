// Package sfutest has what tests of node/sfu and of its callers need:
// a pion client that follows the relay's wire contract (Client), a
// loopback setting engine, synthetic media with payloads that say who
// sent them, and a goroutine leak check. Everything is real pion on
// loopback sockets; nothing here mocks the relay or pion.
package sfutest
