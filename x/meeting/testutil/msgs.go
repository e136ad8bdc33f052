package testutil

import (
	"crypto/ed25519"
	"crypto/hpke"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	identitytypes "github.com/parleynet/parley/x/identity/types"
	"github.com/parleynet/parley/x/meeting/types"
)

// ephPool caches ephemeral keys across fixtures of one test binary:
// ML-KEM keygen is slow enough to matter in tests that draw hundreds.
var ephPool struct {
	sync.Mutex
	keys []hpke.PrivateKey
}

// EphKey returns an MLKEM768X25519 key pair, a different one on each call
// of a fixture (the same sequence in every fixture of a test binary).
func (f *Fixture) EphKey(tb testing.TB) (pub []byte, priv hpke.PrivateKey) {
	tb.Helper()
	ephPool.Lock()
	defer ephPool.Unlock()
	for len(ephPool.keys) <= f.nextEph {
		k, err := hpke.MLKEM768X25519().GenerateKey()
		require.NoError(tb, err)
		ephPool.keys = append(ephPool.keys, k)
	}
	priv = ephPool.keys[f.nextEph]
	f.nextEph++
	return priv.PublicKey().Bytes(), priv
}

// The builders below return messages signed as a client would, over the
// types.*SignBytes of the fixture context's chain ID. Signer is f.Owner;
// the module never checks it (the device signature is what counts).

// CreateMeetingMsg is MsgCreateMeeting for a meeting led by user/device.
func (f *Fixture) CreateMeetingMsg(id []byte, user, device string, key ed25519.PrivateKey, ephPK []byte, p types.Policy, durationSeconds uint64) *types.MsgCreateMeeting {
	return f.ScheduleMeetingMsg(id, user, device, key, ephPK, p, 0, durationSeconds)
}

// ScheduleMeetingMsg is CreateMeetingMsg for a meeting that starts at
// startsAt (Unix seconds; 0: unscheduled).
func (f *Fixture) ScheduleMeetingMsg(id []byte, user, device string, key ed25519.PrivateKey, ephPK []byte, p types.Policy, startsAt int64, durationSeconds uint64) *types.MsgCreateMeeting {
	validUntil := f.Ctx.BlockTime().Unix() + 300
	sb := types.CreateSignBytes(f.Ctx.ChainID(), id, user, device, ephPK, p, durationSeconds, validUntil, startsAt)
	return &types.MsgCreateMeeting{
		Signer: f.Owner, MeetingId: id, UserId: user, DeviceId: device, EphPk: ephPK,
		Policy: p, DurationSeconds: durationSeconds, ValidUntil: validUntil, StartsAt: startsAt, Sig: ed25519.Sign(key, sb),
	}
}

// RequestJoinMsg is MsgRequestJoin by user/device.
func (f *Fixture) RequestJoinMsg(id []byte, user, device string, key ed25519.PrivateKey, ephPK, sealed []byte) *types.MsgRequestJoin {
	var created int64
	if m, err := f.Keeper.Meetings.Get(f.Ctx, id); err == nil {
		created = m.CreatedHeight
	}
	sb := types.RequestSignBytes(f.Ctx.ChainID(), id, created, user, device, ephPK, sealed)
	return &types.MsgRequestJoin{
		Signer: f.Owner, MeetingId: id, UserId: user, DeviceId: device, EphPk: ephPK, Sealed: sealed,
		Sig: ed25519.Sign(key, sb),
	}
}

// CommitEpochMsg is MsgCommitEpoch signed with leaderKey, carrying the
// roster hash a leader computes from the store (see RosterHash).
func (f *Fixture) CommitEpochMsg(id []byte, epoch uint64, members []types.MemberRef, commitment []byte, reason types.Reason, leaderKey ed25519.PrivateKey) *types.MsgCommitEpoch {
	return f.CommitEpochMsgWithHash(id, epoch, members, f.RosterHash(id, members), commitment, reason, leaderKey)
}

// CommitEpochMsgWithHash is CommitEpochMsg with a given roster hash.
func (f *Fixture) CommitEpochMsgWithHash(id []byte, epoch uint64, members []types.MemberRef, rosterHash, commitment []byte, reason types.Reason, leaderKey ed25519.PrivateKey) *types.MsgCommitEpoch {
	sb := types.CommitSignBytes(f.Ctx.ChainID(), id, epoch, members, rosterHash, commitment, reason)
	return &types.MsgCommitEpoch{
		Signer: f.Owner, MeetingId: id, Epoch: epoch, Members: members, KeyCommitment: commitment,
		Reason: reason, RosterHash: rosterHash, Sig: ed25519.Sign(leaderKey, sb),
	}
}

// RosterHash is the roster hash of members over the ephemeral keys of
// their current requests, as a leader computes it (a member without a
// request counts with an empty key hash).
func (f *Fixture) RosterHash(id []byte, members []types.MemberRef) []byte {
	ms := make([]types.Member, len(members))
	for i, ref := range members {
		ms[i] = types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId}
		if r, err := f.Keeper.Requests.Get(f.Ctx, types.JoinRequestKey(id, ref.Ref())); err == nil {
			ms[i].EphPkHash = types.EphKeyHash(r.EphPk)
		}
	}
	types.SortMembers(ms)
	return types.RosterHash(id, ms)
}

// RotateEphKeyMsg is MsgRotateEphKey by user/device to newEphPK, signed
// over its current request's key (none if it has no request).
func (f *Fixture) RotateEphKeyMsg(id []byte, user, device string, key ed25519.PrivateKey, newEphPK []byte) *types.MsgRotateEphKey {
	var keyHash []byte
	if r, err := f.Keeper.Requests.Get(f.Ctx, types.JoinRequestKey(id, identitytypes.DeviceRef{User: user, Device: device})); err == nil {
		keyHash = types.EphKeyHash(r.EphPk)
	}
	sb := types.RotateSignBytes(f.Ctx.ChainID(), id, user, device, keyHash, newEphPK)
	return &types.MsgRotateEphKey{
		Signer: f.Owner, MeetingId: id, UserId: user, DeviceId: device, EphPk: newEphPK, Sig: ed25519.Sign(key, sb),
	}
}

// LeaveMsg is MsgLeave by user/device, for its current request's key (none
// if it has no request).
func (f *Fixture) LeaveMsg(id []byte, user, device string, key ed25519.PrivateKey) *types.MsgLeave {
	var keyHash []byte
	if r, err := f.Keeper.Requests.Get(f.Ctx, types.JoinRequestKey(id, identitytypes.DeviceRef{User: user, Device: device})); err == nil {
		keyHash = types.EphKeyHash(r.EphPk)
	}
	sb := types.LeaveSignBytes(f.Ctx.ChainID(), id, user, device, keyHash)
	return &types.MsgLeave{Signer: f.Owner, MeetingId: id, UserId: user, DeviceId: device, Sig: ed25519.Sign(key, sb)}
}

// TransferLeadershipMsg is MsgTransferLeadership at the meeting's current
// epoch, signed with leaderKey.
func (f *Fixture) TransferLeadershipMsg(id []byte, epoch uint64, newUser, newDevice string, leaderKey ed25519.PrivateKey) *types.MsgTransferLeadership {
	sb := types.TransferSignBytes(f.Ctx.ChainID(), id, epoch, f.leaderChanges(id), newUser, newDevice)
	return &types.MsgTransferLeadership{
		Signer: f.Owner, MeetingId: id, NewLeaderUser: newUser, NewLeaderDevice: newDevice, Sig: ed25519.Sign(leaderKey, sb),
	}
}

// ClaimLeadershipMsg is MsgClaimLeadership at the meeting's current epoch
// by user/device with its new ephemeral key.
func (f *Fixture) ClaimLeadershipMsg(id []byte, epoch uint64, user, device string, ephPK []byte, key ed25519.PrivateKey) *types.MsgClaimLeadership {
	sb := types.ClaimSignBytes(f.Ctx.ChainID(), id, epoch, f.leaderChanges(id), user, device, ephPK)
	return &types.MsgClaimLeadership{
		Signer: f.Owner, MeetingId: id, UserId: user, DeviceId: device, EphPk: ephPK, Sig: ed25519.Sign(key, sb),
	}
}

// EndMeetingMsg is MsgEndMeeting at the meeting's current epoch, signed
// with leaderKey.
func (f *Fixture) EndMeetingMsg(id []byte, epoch uint64, leaderKey ed25519.PrivateKey) *types.MsgEndMeeting {
	sb := types.EndSignBytes(f.Ctx.ChainID(), id, epoch)
	return &types.MsgEndMeeting{Signer: f.Owner, MeetingId: id, Sig: ed25519.Sign(leaderKey, sb)}
}

// Commitment returns a 32-byte key commitment that differs for each n.
// The chain never checks it against a key, so any 32 bytes do.
func Commitment(n int) []byte {
	c := make([]byte, types.KeyCommitmentSize)
	for i := range c {
		c[i] = byte(n + i)
	}
	return c
}

// leaderChanges is the meeting's current count of leadership changes (0
// for an unknown meeting).
func (f *Fixture) leaderChanges(id []byte) uint64 {
	m, err := f.Keeper.Meetings.Get(f.Ctx, id)
	if err != nil {
		return 0
	}
	return m.LeaderChanges
}
