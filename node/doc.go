// Package node is parleyd's node: the Parley app and CometBFT in one
// process, plus the off-chain services every node offers — today the
// mailbox (package node/mailbox), whose reactor rides CometBFT's p2p switch
// and whose gRPC service listens beside the SDK's — and, when enabled with
// --turn.enable or app.toml's [turn] section, a STUN and TURN relay
// (node/turn, wired in relay.go) whose credentials the mailbox hands out.
//
// StartCommandHandler and AddFlags plug into the SDK's start command
// (server.StartCmdOptions). The handler mirrors the SDK's in-process start
// step for step and adds the mailbox; parleyd has no stand-alone ABCI
// mode. internal/nettest starts a real in-process chain for tests.
//
// The node must never hold a key that can read meeting traffic, and never
// put anything off-chain (envelopes, IP addresses, SDP) on chain.
package node
