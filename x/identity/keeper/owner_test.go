package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"

	idtest "github.com/parleynet/parley/x/identity/testutil"
)

// TestOwnerIsTheAccountNotItsSpelling: bech32 allows an address in all upper
// case (BIP 173 recommends it for QR codes), and the address codec decodes
// both spellings to the same account, which is the one that signs the
// transaction either way. Ownership must therefore follow the account: a
// user registered with one spelling is managed with the other, and the
// stored owner is the canonical (lower-case) form.
func TestOwnerIsTheAccountNotItsSpelling(t *testing.T) {
	f := idtest.NewFixture(t)
	owner := f.Addr(t, 0x01)
	upper := strings.ToUpper(owner)
	bz, err := f.AddrCodec.StringToBytes(upper)
	require.NoError(t, err, "the codec accepts the upper-case spelling")
	canonical, err := f.AddrCodec.BytesToString(bz)
	require.NoError(t, err)
	require.Equal(t, owner, canonical)

	phone := idtest.NewDevice("phone", "upper-phone")
	_, err = f.Msg.RegisterUser(f.Ctx, idtest.RegisterMsg(upper, "alice", phone))
	require.NoError(t, err)

	u, err := f.Keeper.Users.Get(f.Ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, owner, u.Owner, "stored owner should be the canonical address string")

	laptop := idtest.NewDevice("laptop", "upper-laptop")
	_, err = f.Msg.AddDevice(f.Ctx, idtest.AddDeviceMsg(owner, "alice", f.Seq(t, "alice"), laptop, phone))
	require.NoError(t, err, "the owning account, spelled canonically, must be accepted")

	_, err = f.Msg.RevokeDevice(f.Ctx, idtest.RevokeMsg(owner, "alice", f.Seq(t, "alice"), "laptop", phone))
	require.NoError(t, err)

	res, err := f.Query.UsersByOwner(f.Ctx, &types.QueryUsersByOwnerRequest{Owner: owner})
	require.NoError(t, err)
	require.Len(t, res.Users, 1)
	require.Equal(t, owner, res.Users[0].Owner)
}
