package simtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdktestutil "github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/parleynet/parley/x/identity"
	identitykeeper "github.com/parleynet/parley/x/identity/keeper"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting"
	meetingkeeper "github.com/parleynet/parley/x/meeting/keeper"
	"github.com/parleynet/parley/x/meeting/types"
)

const (
	chainID      = "parley-sim"
	bech32Prefix = "parley"
)

// genesisTime is the block time of height 0; every block adds a second.
var genesisTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// sim is both modules on one multistore, wired as the app wires them:
// x/meeting reads devices from the real x/identity keeper and hears about
// revocations through its hooks.
type sim struct {
	ctx       sdk.Context
	cdc       codec.Codec
	ac        address.Codec
	authority string
	// payer signs (and would pay for) the transactions; x/meeting only
	// checks device signatures, so one account is enough.
	payer string

	idKey, mtKey *storetypes.KVStoreKey
	identity     *identitykeeper.Keeper
	meeting      *meetingkeeper.Keeper
	idMsg        identitytypes.MsgServer
	mtMsg        types.MsgServer
}

func newSim(tb testing.TB, params types.Params) *sim {
	tb.Helper()
	idKey := storetypes.NewKVStoreKey(identitytypes.StoreKey)
	mtKey := storetypes.NewKVStoreKey(types.StoreKey)
	ctx := sdktestutil.DefaultContextWithKeys(
		map[string]*storetypes.KVStoreKey{idKey.Name(): idKey, mtKey.Name(): mtKey},
		map[string]*storetypes.TransientStoreKey{"transient_test": storetypes.NewTransientStoreKey("transient_test")},
		nil,
	)
	enc := moduletestutil.MakeTestEncodingConfig(identity.AppModule{}, meeting.AppModule{})
	ac := addresscodec.NewBech32Codec(bech32Prefix)
	s := &sim{
		ctx: ctx.WithChainID(chainID).WithBlockHeight(0).WithBlockTime(genesisTime).
			WithEventManager(sdk.NewEventManager()),
		cdc:       enc.Codec,
		ac:        ac,
		authority: addr(tb, ac, 0xAA),
		payer:     addr(tb, ac, 0xBB),
		idKey:     idKey,
		mtKey:     mtKey,
	}
	s.identity = identitykeeper.NewKeeper(s.cdc, runtime.NewKVStoreService(idKey), ac, s.authority)
	s.meeting = meetingkeeper.NewKeeper(s.cdc, runtime.NewKVStoreService(mtKey), s.identity, s.authority)
	s.identity.SetHooks(identitytypes.MultiIdentityHooks{s.meeting.Hooks()})
	s.idMsg = identitykeeper.NewMsgServerImpl(s.identity)
	s.mtMsg = meetingkeeper.NewMsgServerImpl(s.meeting)
	require.NoError(tb, s.identity.InitGenesis(s.ctx, identitytypes.DefaultGenesis()))
	require.NoError(tb, s.meeting.InitGenesis(s.ctx, types.DefaultGenesis()))
	_, err := s.mtMsg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: s.authority, Params: params})
	require.NoError(tb, err)
	return s
}

func addr(tb testing.TB, ac address.Codec, b byte) string {
	tb.Helper()
	s, err := ac.BytesToString(sdk.AccAddress(bytes.Repeat([]byte{b}, 20)))
	require.NoError(tb, err)
	return s
}

// nextBlock moves to the next height, one second later, with a fresh
// event manager. All blocks share the store, as consecutive committed
// blocks do.
func (s *sim) nextBlock() {
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).
		WithBlockTime(s.ctx.BlockTime().Add(time.Second)).
		WithEventManager(sdk.NewEventManager())
}

func (s *sim) height() int64 { return s.ctx.BlockHeight() }
func (s *sim) now() int64    { return s.ctx.BlockTime().Unix() }

func (s *sim) params(tb testing.TB) types.Params {
	tb.Helper()
	p, err := s.meeting.Params.Get(s.ctx)
	require.NoError(tb, err)
	return p
}

// --- devices and users ----------------------------------------------------

// device is one device of a simulated user, with its Ed25519 key.
type device struct {
	user, id string
	priv     ed25519.PrivateKey
	revoked  bool
}

func newDevice(user, id string, seed []byte) *device {
	return &device{user: user, id: id, priv: ed25519.NewKeyFromSeed(seed)}
}

func (d *device) key() string             { return d.user + "/" + d.id }
func (d *device) pub() []byte             { return []byte(d.priv.Public().(ed25519.PublicKey)) }
func (d *device) sign(msg []byte) []byte  { return ed25519.Sign(d.priv, msg) }
func (d *device) ref() types.MemberRef    { return types.MemberRef{UserId: d.user, DeviceId: d.id} }
func (d *device) String() string          { return d.key() }
func (d *device) is(user, id string) bool { return d.user == user && d.id == id }

// user is a simulated user: an owner account and its devices, in the
// order they were added (revoked ones stay, flagged).
type user struct {
	id, owner string
	devices   []*device
	nextDev   int
}

func (u *user) active() []*device {
	var out []*device
	for _, d := range u.devices {
		if !d.revoked {
			out = append(out, d)
		}
	}
	return out
}

func (s *sim) seq(tb testing.TB, userID string) uint64 {
	tb.Helper()
	u, err := s.identity.Users.Get(s.ctx, userID)
	require.NoError(tb, err)
	return u.Seq
}

func (s *sim) registerMsg(u *user, d *device) *identitytypes.MsgRegisterUser {
	return &identitytypes.MsgRegisterUser{
		Owner: u.owner, UserId: u.id, DeviceId: d.id, Pubkey: d.pub(),
		PopSig: d.sign(identitytypes.RegisterSignBytes(chainID, u.owner, u.id, d.id, d.pub())),
	}
}

func (s *sim) addDeviceMsg(u *user, seq uint64, d, approver *device) *identitytypes.MsgAddDevice {
	return &identitytypes.MsgAddDevice{
		Owner: u.owner, UserId: u.id, DeviceId: d.id, Pubkey: d.pub(),
		PopSig:           d.sign(identitytypes.AddDevicePoPSignBytes(chainID, u.owner, u.id, seq, d.id, d.pub())),
		ApproverDeviceId: approver.id,
		ApproverSig:      approver.sign(identitytypes.ApproveSignBytes(chainID, u.id, seq, d.id, d.pub(), approver.id)),
	}
}

func (s *sim) revokeMsg(u *user, seq uint64, target string, signer *device) *identitytypes.MsgRevokeDevice {
	return &identitytypes.MsgRevokeDevice{
		Owner: u.owner, UserId: u.id, DeviceId: target, SignerDeviceId: signer.id,
		Sig: signer.sign(identitytypes.RevokeSignBytes(chainID, u.id, seq, target, signer.id)),
	}
}

// --- ephemeral keys ---------------------------------------------------------

// ephKey derives an MLKEM768X25519 public key from ikm, so that a seed
// fixes every byte of a run. A meeting accepts each key once, so every
// request, creation and claim needs a new one.
func ephKey(tb testing.TB, ikm []byte) []byte {
	tb.Helper()
	sk, err := hpke.MLKEM768X25519().DeriveKeyPair(ikm)
	require.NoError(tb, err)
	return sk.PublicKey().Bytes()
}

// --- x/meeting messages, signed as a client signs them -----------------------

// Each builder takes the device the message speaks for and the device
// whose key signs it: the same one for a valid message.

func (s *sim) createMsg(d, signer *device, id, eph []byte, p types.Policy, dur uint64, validUntil int64) *types.MsgCreateMeeting {
	return &types.MsgCreateMeeting{
		Signer: s.payer, MeetingId: id, UserId: d.user, DeviceId: d.id, EphPk: eph, Policy: p, DurationSeconds: dur,
		ValidUntil: validUntil,
		Sig:        signer.sign(types.CreateSignBytes(chainID, id, d.user, d.id, eph, p, dur, validUntil, 0)),
	}
}

// requestMsg is bound to the meeting's created_height, so that it cannot
// be replayed into a later meeting that reuses the ID.
func (s *sim) requestMsg(d, signer *device, id []byte, created int64, eph, sealed []byte) *types.MsgRequestJoin {
	return &types.MsgRequestJoin{
		Signer: s.payer, MeetingId: id, UserId: d.user, DeviceId: d.id, EphPk: eph, Sealed: sealed,
		Sig: signer.sign(types.RequestSignBytes(chainID, id, created, d.user, d.id, eph, sealed)),
	}
}

func (s *sim) commitMsg(signer *device, id []byte, epoch uint64, members []types.MemberRef, rosterHash, commitment []byte, reason types.Reason) *types.MsgCommitEpoch {
	return &types.MsgCommitEpoch{
		Signer: s.payer, MeetingId: id, Epoch: epoch, Members: members, RosterHash: rosterHash, KeyCommitment: commitment, Reason: reason,
		Sig: signer.sign(types.CommitSignBytes(chainID, id, epoch, members, rosterHash, commitment, reason)),
	}
}

// rotateMsg signs the rotation of the request whose key hashes to curHash.
func (s *sim) rotateMsg(d, signer *device, id, curHash, eph []byte) *types.MsgRotateEphKey {
	return &types.MsgRotateEphKey{
		Signer: s.payer, MeetingId: id, UserId: d.user, DeviceId: d.id, EphPk: eph,
		Sig: signer.sign(types.RotateSignBytes(chainID, id, d.user, d.id, curHash, eph)),
	}
}

// leaveMsg signs the leave of the request whose key hashes to ephHash.
func (s *sim) leaveMsg(d, signer *device, id, ephHash []byte) *types.MsgLeave {
	return &types.MsgLeave{
		Signer: s.payer, MeetingId: id, UserId: d.user, DeviceId: d.id,
		Sig: signer.sign(types.LeaveSignBytes(chainID, id, d.user, d.id, ephHash)),
	}
}

// transferMsg and claimMsg are pinned to the meeting's epoch and its
// count of leader changes.
func (s *sim) transferMsg(signer *device, id []byte, epoch, changes uint64, to *device) *types.MsgTransferLeadership {
	return &types.MsgTransferLeadership{
		Signer: s.payer, MeetingId: id, NewLeaderUser: to.user, NewLeaderDevice: to.id,
		Sig: signer.sign(types.TransferSignBytes(chainID, id, epoch, changes, to.user, to.id)),
	}
}

func (s *sim) claimMsg(d, signer *device, id []byte, epoch, changes uint64, eph []byte) *types.MsgClaimLeadership {
	return &types.MsgClaimLeadership{
		Signer: s.payer, MeetingId: id, UserId: d.user, DeviceId: d.id, EphPk: eph,
		Sig: signer.sign(types.ClaimSignBytes(chainID, id, epoch, changes, d.user, d.id, eph)),
	}
}

func (s *sim) endMsg(signer *device, id []byte, epoch uint64) *types.MsgEndMeeting {
	return &types.MsgEndMeeting{
		Signer: s.payer, MeetingId: id,
		Sig: signer.sign(types.EndSignBytes(chainID, id, epoch)),
	}
}

// --- state snapshots -----------------------------------------------------------

func (s *sim) export(tb testing.TB) *types.GenesisState {
	tb.Helper()
	gs, err := s.meeting.ExportGenesis(s.ctx)
	require.NoError(tb, err)
	return gs
}

// exportBytes is the exported genesis, encoded, for exact comparison.
func (s *sim) exportBytes(tb testing.TB) []byte {
	tb.Helper()
	bz, err := s.export(tb).Marshal()
	require.NoError(tb, err)
	return bz
}

// rawStore returns every entry of a module store, indexes and queues
// included, in key order.
func rawStore(ctx sdk.Context, key *storetypes.KVStoreKey) []kv {
	it := ctx.KVStore(key).Iterator(nil, nil)
	defer it.Close()
	var out []kv
	for ; it.Valid(); it.Next() {
		out = append(out, kv{key: bytes.Clone(it.Key()), value: bytes.Clone(it.Value())})
	}
	return out
}

type kv struct{ key, value []byte }

// firstDiff describes the first difference of two raw snapshots.
func firstDiff(a, b []kv) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i >= len(a):
			return fmt.Sprintf("entry added: key %x", b[i].key)
		case i >= len(b):
			return fmt.Sprintf("entry removed: key %x", a[i].key)
		case !bytes.Equal(a[i].key, b[i].key):
			return fmt.Sprintf("key %x became %x", a[i].key, b[i].key)
		case !bytes.Equal(a[i].value, b[i].value):
			return fmt.Sprintf("value of key %x changed", a[i].key)
		}
	}
	return ""
}
