// Package verify is how the client reads the chain without trusting the
// node it talks to. A light client (CometBFT's own, package light) keeps
// a chain of headers that validators signed, starting from a trust anchor
// the person chose (chain ID, a height and its header hash, a trusting
// period); every value a security decision rests on is read with an ABCI
// query with a Merkle proof and checked against the app hash of a
// light-verified header.
//
// The parts:
//
//   - Anchor and State: the trust anchor and the newest trusted light
//     block, kept in a file under the client's home (anchor.go, state.go).
//   - Headers: the light client over the configured nodes, the first as
//     primary and the others as witnesses (headers.go); a node whose
//     header does not verify is left, two nodes whose headers conflict are
//     reported as a possible attack and neither is used again.
//   - Reader and Snapshot: proven reads of the chain's state after one
//     block (reader.go, proof.go), typed for x/identity and x/meeting
//     (identity.go, meeting.go); Tentative, the leader's reads of the newest
//     block, checked once its header arrives (tentative.go).
//   - TxResult: the proven outcome of a transaction (tx.go).
//
// A node's answer that does not verify is a *LieError, which wraps
// chain.ErrBadAnswer: client/chain then moves to the next node, exactly
// as it does for a node that does not answer, and says so.
//
// This package must never:
//   - return a value from a Snapshot that was not proven against a
//     light-verified app hash (Tentative values are marked as such and
//     checked by Confirm before anything rests on them);
//   - accept a proof for another key, another store or another height
//     than the one asked for;
//   - treat a node's silence or lie as proof of absence: only an absence
//     proof is (ErrNotFound);
//   - go back to a node it stopped using after conflicting headers;
//   - hold a key or secret: it reads public chain state only.
package verify
