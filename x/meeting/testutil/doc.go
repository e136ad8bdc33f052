// Package testutil builds x/meeting's keeper on x/identity's test fixture
// (x/identity/testutil: one in-memory multistore, the identity hooks wired
// to x/meeting), and signs every x/meeting message the way a client does.
// It is for tests only; production code must never import it.
//
// A test starts with NewFixture, registers users and devices with
// RegisterUser/AddDevice, draws ephemeral keys with EphKey, sends the
// messages built by the *Msg methods through Msg, moves the chain on with
// NextBlock and checks state with CheckInvariants.
package testutil
