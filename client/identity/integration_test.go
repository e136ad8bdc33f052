package identity_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/internal/nettest"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// TestIdentityLifecycleOnChain drives register → add device (approved) →
// revoke → reset through real signed transactions on an in-process chain
// and checks the queries and typed events after each step.
func TestIdentityLifecycleOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := net.Verified(t, "alice")
	mallory := net.Verified(t, "bob")
	q := alice.Identity()

	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	require.NoError(t, err)
	newKey := func(device string) *keystore.DeviceKey {
		k, err := st.Create("alice", device, nil, keystore.CreateOptions{Unencrypted: true})
		require.NoError(t, err)
		return k
	}
	laptop, phone, tablet := newKey("laptop"), newKey("phone"), newKey("tablet")

	// register
	res, err := identity.Register(ctx, alice, "alice", "laptop", laptop)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventUserRegistered")
	u, err := q.User(ctx, &identitytypes.QueryUserRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Equal(t, alice.Account(), u.User.Owner)
	require.EqualValues(t, 1, u.User.Seq)

	// a second registration of the same name by another account fails
	_, err = identity.Register(ctx, mallory, "alice", "evil", tablet)
	require.ErrorIs(t, err, chain.ErrTxFailed)
	require.Contains(t, err.Error(), "user already registered")

	// add device, approved by the laptop
	a, err := identity.Approve(ctx, alice, "alice", "laptop", laptop, "phone", phone.PublicKey())
	require.NoError(t, err)
	a, err = identity.DecodeApproval(a.Encode())
	require.NoError(t, err)
	res, err = identity.AddDevice(ctx, alice, a, phone)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventDeviceAdded")
	devs, err := q.Devices(ctx, &identitytypes.QueryDevicesRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Len(t, devs.Devices, 2)

	// the same approval cannot be replayed for another device
	a.DeviceID, a.PubKey = "tablet", tablet.PublicKey()
	_, err = identity.AddDevice(ctx, alice, a, tablet)
	require.ErrorIs(t, err, chain.ErrTxFailed)
	require.Contains(t, err.Error(), "invalid device signature")

	// another account cannot add devices to alice
	b, err := identity.Approve(ctx, alice, "alice", "laptop", laptop, "tablet", tablet.PublicKey())
	require.NoError(t, err)
	_, err = identity.AddDevice(ctx, mallory, b, tablet)
	require.ErrorIs(t, err, chain.ErrTxFailed)
	require.Contains(t, err.Error(), "does not own")

	// revoke the phone, signed by the laptop
	res, err = identity.Revoke(ctx, alice, "alice", "phone", "laptop", laptop)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventDeviceRevoked")
	d, err := q.Device(ctx, &identitytypes.QueryDeviceRequest{UserId: "alice", DeviceId: "phone"})
	require.NoError(t, err)
	require.NotZero(t, d.Device.RevokedHeight)

	// the last device can only go through a reset
	_, err = identity.Revoke(ctx, alice, "alice", "laptop", "laptop", laptop)
	require.ErrorIs(t, err, chain.ErrTxFailed)
	require.Contains(t, err.Error(), "last active device")

	// reset: every device revoked, the tablet is the only one
	res, err = identity.Reset(ctx, alice, "alice", "tablet", tablet)
	require.NoError(t, err)
	requireEvent(t, res, "parley.identity.v1.EventUserReset")
	requireEvent(t, res, "parley.identity.v1.EventDeviceRevoked")
	devs, err = q.Devices(ctx, &identitytypes.QueryDevicesRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Len(t, devs.Devices, 1)
	require.Equal(t, "tablet", devs.Devices[0].DeviceId)
	u, err = q.User(ctx, &identitytypes.QueryUserRequest{UserId: "alice"})
	require.NoError(t, err)
	require.EqualValues(t, 1, u.User.ResetCount)

	hist, err := q.History(ctx, &identitytypes.QueryHistoryRequest{UserId: "alice"})
	require.NoError(t, err)
	var ops []identitytypes.Op
	for _, e := range hist.Entries {
		ops = append(ops, e.Op)
	}
	require.Equal(t, []identitytypes.Op{identitytypes.Op_OP_REGISTER, identitytypes.Op_OP_ADD,
		identitytypes.Op_OP_REVOKE, identitytypes.Op_OP_RESET}, ops)

	// the audit from a device that knows only the laptop flags the tablet
	rep, err := identity.Audit(ctx, alice, "alice", []identity.KnownDevice{{DeviceID: "laptop", PubKey: "00"}})
	require.NoError(t, err)
	require.False(t, rep.OK())
	require.Equal(t, "tablet", rep.Findings[0].DeviceID)

	owned, err := q.UsersByOwner(ctx, &identitytypes.QueryUsersByOwnerRequest{Owner: alice.Account()})
	require.NoError(t, err)
	require.Len(t, owned.Users, 1)
}

// requireEvent checks that a committed transaction emitted the typed event.
func requireEvent(t *testing.T, res *sdk.TxResponse, eventType string) {
	t.Helper()
	require.NotNil(t, res)
	for _, e := range res.Events {
		if e.Type == eventType {
			return
		}
	}
	t.Fatalf("tx %s has no %s event", res.TxHash, eventType)
}
