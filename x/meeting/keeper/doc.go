// Package keeper holds x/meeting's state (collections only), its Msg and
// Query services, the EndBlocker, genesis import/export and the identity
// hooks. Every device signature is verified against x/identity's active
// devices; a rejected message leaves the state unchanged.
package keeper
