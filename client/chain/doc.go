// Package chain is the client's access to a Parley chain: it builds, signs
// (with the Cosmos keyring account that pays fees) and broadcasts
// transactions, waits for them to be committed, and queries module state
// over the nodes' ABCI query path.
//
// # Failover
//
// A client is given a list of CometBFT RPC nodes (Config.Nodes, or a
// comma-separated Config.Node) and uses one at a time. Every request to a
// node has a short timeout (Config.AttemptTimeout). When a node does not
// answer — connection refused or reset, no answer in time, a broken
// reply, still catching up — the client moves to the next node in the
// list (wrapping around), tells Config.OnFailover, and asks again there.
// An answer from the chain, such as a query's NotFound or a transaction's
// ABCI error code, is returned as it is: another node would say the same.
// Queries through Identity, Meeting and QueryConn fail over; Conn is the
// node in use and does not.
//
// # No transaction is lost silently
//
// Broadcast signs a transaction once and keeps its bytes and hash until it
// is settled. If a node stops answering while the transaction is being
// sent or awaited, the next node is asked for it by hash: if a block has
// it, that is the result; if not, the same bytes are sent there (a node
// that already has them says so, which counts as accepted). It is never
// signed again, so it cannot be committed twice, and the account sequence
// of the next transaction stays right. Every Broadcast therefore ends in
// one of three ways:
//
//   - committed: the response, or ErrTxFailed with the chain's reason if
//     it failed in its block;
//   - rejected: ErrTxFailed with the chain's reason; it will never be in a
//     block (a refused transaction counts as rejected only once its
//     account sequence has been used by another one);
//   - pending: a *PendingTxError carrying the hash, when the wait ends
//     first — ErrChainHalted if no new block was seen for
//     Config.HaltAfter (also ErrUnreachable if no node answered at all),
//     ErrTxTimeout after Config.CommitTimeout, or the caller's context.
//     TxStatus later says what became of it, sending it again if no node
//     has it; Status says whether the chain looks halted.
//
// It never imports the app or a keeper: it knows the chain only through its
// API and the shared x/*/types packages. It never handles device keys;
// those stay in client/keystore.
package chain
