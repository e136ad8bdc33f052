package identity_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/org"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/chainparams"
	"github.com/parleynet/parley/internal/nettest"
)

// TestFirstRunPaidByOrgThenLink is the page's first run without a funded
// account, on a real chain: a device whose derived account holds no
// tokens registers a user with fees paid by an organisation's grant, the
// grant cannot pay for a bank send, and a second device is linked by a
// link token the first device checks (verification code, possession
// signature, user, owner) and approves, while attackers' tokens are
// refused.
func TestFirstRunPaidByOrgThenLink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	orgc := net.Verified(t, "carol")
	fee := "100" + chainparams.BondDenom

	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	require.NoError(t, err)
	newKey := func(user, device string) *keystore.DeviceKey {
		k, err := st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
		require.NoError(t, err)
		return k
	}
	laptop := newKey("erin", "laptop")
	acct, err := laptop.AccountKey()
	require.NoError(t, err)
	addr := sdk.AccAddress(acct.PubKey().Address()).String()
	device := func(granter string) *verify.Client {
		return net.VerifiedWith(t, chain.Config{AccountKey: acct, FeeGranter: granter, Fees: fee})
	}

	// No grant yet: the account does not even exist on chain.
	_, err = identity.Register(ctx, device(""), "erin", "laptop", laptop)
	require.ErrorIs(t, err, chain.ErrAccountUnknown)

	// The organisation grants fees for Parley's messages only.
	has, err := org.Has(ctx, orgc.QueryConn(), orgc.Account(), addr)
	require.NoError(t, err)
	require.False(t, has)
	_, err = org.Give(ctx, orgc, addr, org.Grant{SpendLimit: sdk.NewCoins(sdk.NewInt64Coin(chainparams.BondDenom, 1_000_000))})
	require.NoError(t, err)
	has, err = org.Has(ctx, orgc.QueryConn(), orgc.Account(), addr)
	require.NoError(t, err)
	require.True(t, has)

	before := balance(ctx, t, orgc, orgc.Account())
	dev := device(orgc.Account())
	res, err := identity.Register(ctx, dev, "erin", "laptop", laptop)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventUserRegistered")
	require.True(t, balance(ctx, t, orgc, addr).IsZero(), "the device account paid something")
	require.Equal(t, before.Sub(sdkmath.NewInt(100)), balance(ctx, t, orgc, orgc.Account()), "the organisation paid the fee")

	// The grant does not pay for a bank send.
	send := banktypes.NewMsgSend(sdk.MustAccAddressFromBech32(addr), sdk.MustAccAddressFromBech32(orgc.Account()), sdk.NewCoins(sdk.NewInt64Coin(chainparams.BondDenom, 1)))
	_, err = dev.Broadcast(ctx, send)
	require.ErrorIs(t, err, chain.ErrTxFailed)
	require.ErrorIs(t, err, chain.ErrFeeGrant)
	require.Contains(t, err.Error(), "message not allowed")

	// Link a phone. It needs no account: the laptop (the owner) sends it.
	phone := newKey("erin", "phone")
	phonec := net.Verified(t, "")
	req, err := identity.NewLink(ctx, phonec, "erin", "phone", phone)
	require.NoError(t, err)
	token := req.Encode()
	phoneCode := identity.LinkCode(net.ChainID, "erin", "phone", phone.PublicKey())
	waited := make(chan error, 1)
	go func() {
		d, err := identity.WaitLinked(ctx, phonec, req, 200*time.Millisecond)
		if err == nil && !bytes.Equal(d.Pubkey, phone.PublicKey()) {
			err = fmt.Errorf("linked with key %x", d.Pubkey)
		}
		waited <- err
	}()

	got, err := identity.DecodeLink(token)
	require.NoError(t, err)
	code, err := identity.CheckLink(ctx, dev, "erin", got)
	require.NoError(t, err)
	require.Equal(t, phoneCode, code, "both devices show the same code")

	// Attacker 1 swaps in their key and keeps the phone's signature.
	mallory := newKey("erin", "evil")
	swapped := got
	swapped.PubKey = mallory.PublicKey()
	_, err = identity.CheckLink(ctx, dev, "erin", swapped)
	require.ErrorIs(t, err, identity.ErrLinkRefused)
	require.Contains(t, err.Error(), "possession signature")

	// Attacker 2 replaces the whole token with a valid one for their key:
	// it checks out, but its code differs from what the phone shows.
	evil, err := identity.NewLink(ctx, phonec, "erin", "phone", mallory)
	require.NoError(t, err)
	evilCode, err := identity.CheckLink(ctx, dev, "erin", evil)
	require.NoError(t, err)
	require.NotEqual(t, phoneCode, evilCode)
	_, err = identity.ApproveLink(ctx, dev, "erin", "laptop", laptop, evil, phoneCode)
	require.ErrorIs(t, err, identity.ErrLinkRefused)
	require.Contains(t, err.Error(), "verification code")

	// A token for another user, and an account that does not own erin.
	other := got
	other.UserID = "alice"
	_, err = identity.CheckLink(ctx, dev, "erin", other)
	require.ErrorIs(t, err, identity.ErrLinkRefused)
	require.Contains(t, err.Error(), "asks to join user alice")
	_, err = identity.CheckLink(ctx, orgc, "erin", got)
	require.ErrorIs(t, err, identity.ErrLinkRefused)
	require.Contains(t, err.Error(), "only the owner can add devices")

	// The real approval, paid by the grant; the phone sees itself active.
	res, err = identity.ApproveLink(ctx, dev, "erin", "laptop", laptop, got, code)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventDeviceAdded")
	require.NoError(t, <-waited)

	// The token is single-use.
	_, err = identity.ApproveLink(ctx, dev, "erin", "laptop", laptop, got, code)
	require.ErrorIs(t, err, identity.ErrLinkStale)
}

// balance reads addr's balance of the fee denomination.
func balance(ctx context.Context, t *testing.T, c *verify.Client, addr string) sdkmath.Int {
	t.Helper()
	res, err := banktypes.NewQueryClient(c.QueryConn()).Balance(ctx, &banktypes.QueryBalanceRequest{Address: addr, Denom: chainparams.BondDenom})
	require.NoError(t, err)
	return res.Balance.Amount
}
