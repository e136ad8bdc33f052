// Package keeper holds x/identity's state (collections only), its Msg and
// Query services, genesis import/export and the revocation hooks. All
// validation happens in the msg server; a rejected message leaves the
// state unchanged.
package keeper
