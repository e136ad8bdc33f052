// Package localnet starts a Parley network of real parleyd processes on
// loopback for tests: four validators by default, or one, through
// networks/local/localnet-4.sh, with every node's RPC, gRPC and mailbox
// addresses, single nodes stopped and started from their data directories,
// and waits on block heights.
//
// It is a test helper, shipped the net/http/httptest way: Start takes a
// testing.TB and stops the network in t.Cleanup. It builds nothing unless
// asked (BuildBinaries), listens on 127.0.0.1 only, and must never leave a
// node running after its test process is gone: the script's watchdog
// stops the network when the test process exits without cleaning up.
package localnet
