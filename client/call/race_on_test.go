//go:build race

package call_test

// raceEnabled: the race detector slows everything about tenfold, so tests
// whose figures depend on the machine keeping up skip.
const raceEnabled = true
