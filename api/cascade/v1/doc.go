// Package cascadev1 is the wire of the cascade between the media relays
// of different nodes (node/sfu doc.go, "Cascade"): the generated types of
// proto/parley/cascade/v1, the CometBFT p2p channel they travel on, and
// the bounds both sides hold them to. The relay (node/sfu) encodes and
// checks the messages; the node's reactor (node/cascade.go) only carries
// them between peers. It imports nothing of Parley's.
package cascadev1
