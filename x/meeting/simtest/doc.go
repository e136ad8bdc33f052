// Package simtest drives x/meeting and x/identity together on one
// multistore: a seeded random simulation (TestRandomizedMeetings) that
// checks, after every message, that the chain matches a model built from
// x/meeting's README and, after every block, the module's invariants; and
// benchmarks of the messages a busy meeting sends most.
//
// A failing run names its seed; replay it, or explore more, with
//
//	go test ./x/meeting/simtest/ -run TestRandomizedMeetings -seed 28 -blocks 300
//	go test ./x/meeting/simtest/ -run TestRandomizedMeetings -seeds 100 -blocks 300 -timeout 30m
//
// (or SIMTEST_SEED, SIMTEST_SEEDS and SIMTEST_BLOCKS).
//
// Everything here lives in _test.go files; the package exports nothing and
// must never be imported by production code. It reaches the modules only
// through their keepers' message servers, collections (read-only), hooks
// and the shared sign-bytes functions, as the app and a client do; it
// never writes module state behind their back.
package simtest
