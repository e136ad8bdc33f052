package org

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	gogogrpc "github.com/cosmos/gogoproto/grpc"
)

// Grant says what an organisation pays for one device's account.
type Grant struct {
	// SpendLimit caps the fees paid in total (nil: no cap).
	SpendLimit sdk.Coins
	// Expires ends the grant (zero: never).
	Expires time.Time
	// Modules are the Parley modules whose messages it pays for;
	// empty means DefaultModules.
	Modules []string
}

// Chain is what granting needs of a chain client (client/chain.Client
// and client/verify.Client have it).
type Chain interface {
	Account() string
	Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
	QueryConn() gogogrpc.ClientConn
}

// Msg builds the MsgGrantAllowance by which granter pays grantee's fees
// for g's modules' messages only.
func (g Grant) Msg(granter, grantee string, now time.Time) (*feegrant.MsgGrantAllowance, error) {
	gr, err := sdk.AccAddressFromBech32(granter)
	if err != nil {
		return nil, fmt.Errorf("%w: granter %q: %v", ErrBadGrant, granter, err)
	}
	ge, err := sdk.AccAddressFromBech32(grantee)
	if err != nil {
		return nil, fmt.Errorf("%w: grantee %q is not an account address: %v", ErrBadGrant, grantee, err)
	}
	if gr.Equals(ge) {
		return nil, fmt.Errorf("%w: an account cannot grant fees to itself", ErrBadGrant)
	}
	if !g.SpendLimit.IsValid() && g.SpendLimit != nil {
		return nil, fmt.Errorf("%w: spend limit %q", ErrBadGrant, g.SpendLimit)
	}
	basic := &feegrant.BasicAllowance{SpendLimit: g.SpendLimit}
	if !g.Expires.IsZero() {
		if !g.Expires.After(now) {
			return nil, fmt.Errorf("%w: expiry %s is not in the future", ErrBadGrant, g.Expires.UTC().Format(time.RFC3339))
		}
		exp := g.Expires.UTC()
		basic.Expiration = &exp
	}
	urls, err := MsgTypeURLs(g.Modules)
	if err != nil {
		return nil, err
	}
	allowed, err := feegrant.NewAllowedMsgAllowance(basic, urls)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGrant, err)
	}
	return feegrant.NewMsgGrantAllowance(allowed, gr, ge)
}

// Give sends the grant from c's account (the organisation's) to grantee.
func Give(ctx context.Context, c Chain, grantee string, g Grant) (*sdk.TxResponse, error) {
	if c.Account() == "" {
		return nil, ErrNoGranter
	}
	msg, err := g.Msg(c.Account(), grantee, time.Now())
	if err != nil {
		return nil, err
	}
	return c.Broadcast(ctx, msg)
}

// Has says whether granter has a fee grant for grantee (one that has
// expired or is spent may still be listed until it is next used). It is
// a plain query, not a proven read: a node that lies about it can only
// make a client ask for a grant again or try to pay with one that is not
// there, and both fail visibly.
func Has(ctx context.Context, conn gogogrpc.ClientConn, granter, grantee string) (bool, error) {
	_, err := feegrant.NewQueryClient(conn).Allowance(ctx, &feegrant.QueryAllowanceRequest{Granter: granter, Grantee: grantee})
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("fee grant from %s to %s: %w", granter, grantee, err)
}

// isNotFound recognises x/feegrant's answer for a missing grant: its
// query returns the store's "not found" as an Internal gRPC error.
func isNotFound(err error) bool {
	return strings.Contains(err.Error(), "not found")
}
