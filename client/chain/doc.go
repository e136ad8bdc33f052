// Package chain is the client's access to a Parley node: it builds, signs
// (with the Cosmos keyring account that pays fees) and broadcasts
// transactions, waits for them to be committed, and queries module state
// over the node's ABCI query path.
//
// It never imports the app or a keeper: it knows the chain only through its
// API and the shared x/*/types packages. It never handles device keys;
// those stay in client/keystore.
package chain
