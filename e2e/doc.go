// Package e2e holds tests that drive the built parleyd and parley binaries
// as a person would, against real node processes on loopback.
package e2e
