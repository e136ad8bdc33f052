// Package calltest provides what tests of the call engine and of its users
// need, the net/http/httptest way: devices with fresh keys and epochs of
// them, an in-memory Transport, a pion virtual network, sinks that record
// what they receive, and a goroutine leak check. It must never be imported
// by non-test code: its keys are throwaway and its network is a toy.
package calltest
