package types_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/meeting/types"
)

const chainID = "parley-1"

var (
	mid   = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	mid2  = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16}
	eph   = []byte{0xaa, 0xbb, 0xcc}
	eph2  = []byte{0xaa, 0xbb, 0xcd}
	pol   = types.Policy{MaxParticipants: 8, Allowlist: []string{"alice", "bob"}, PasscodeRequired: true}
	refs  = []types.MemberRef{{UserId: "alice", DeviceId: "phone"}, {UserId: "bob", DeviceId: "desk"}}
	commt = bytes.Repeat([]byte{7}, 32)
	rhash = bytes.Repeat([]byte{0x11}, 32)
)

// createVector is CreateSignBytes("parley-1", 00..0f, "alice", "phone",
// aabbcc, {8, [alice bob], true}, 3600, 1800000000), computed outside Go.
const createVector = "00187061726c65792f76312f6d656574696e672f63726561746500087061726c65792d31" +
	"0010000102030405060708090a0b0c0d0e0f0005616c696365000570686f6e650003aabbcc" +
	"000000000000000800000000000000020005616c6963650003626f6200000000000000010000000000000e10" +
	"000000006b49d200"

func TestCreateSignBytesVector(t *testing.T) {
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(b, s...)
	}
	var want []byte
	want = str(want, "parley/v1/meeting/create")
	want = str(want, "parley-1")
	want = str(want, string(mid))
	want = str(want, "alice")
	want = str(want, "phone")
	want = str(want, string(eph))
	want = binary.BigEndian.AppendUint64(want, 8) // max_participants
	want = binary.BigEndian.AppendUint64(want, 2) // allowlist length
	want = str(want, "alice")
	want = str(want, "bob")
	want = binary.BigEndian.AppendUint64(want, 1)          // passcode_required
	want = binary.BigEndian.AppendUint64(want, 3600)       // duration_seconds
	want = binary.BigEndian.AppendUint64(want, 1800000000) // valid_until

	got := types.CreateSignBytes(chainID, mid, "alice", "phone", eph, pol, 3600, 1800000000, 0)
	require.Equal(t, want, got)
	require.Equal(t, createVector, hex.EncodeToString(got))
}

// commitVector is CommitSignBytes("parley-1", 00..0f, 3, [alice/phone
// bob/desk], 11×32, 07×32, REASON_JOIN), computed outside Go.
const commitVector = "00187061726c65792f76312f6d656574696e672f636f6d6d697400087061726c65792d31" +
	"0010000102030405060708090a0b0c0d0e0f00000000000000030000000000000002" +
	"0005616c696365000570686f6e650003626f6200046465736b" +
	"00201111111111111111111111111111111111111111111111111111111111111111" +
	"00200707070707070707070707070707070707070707070707070707070707070707" +
	"0000000000000001"

// rotateVector is RotateSignBytes("parley-1", 00..0f, "alice", "phone",
// SHA-256(aabbcc), aabbcd), computed outside Go.
const rotateVector = "00187061726c65792f76312f6d656574696e672f726f7461746500087061726c65792d31" +
	"0010000102030405060708090a0b0c0d0e0f0005616c696365000570686f6e65" +
	"0020fa22dfe1da9013b3c1145040acae9089e0c08bc1c1a0719614f4b73add6f6ef5" +
	"0003aabbcd"

func TestCommitAndRotateSignBytesVectors(t *testing.T) {
	commit := types.CommitSignBytes(chainID, mid, 3, refs, rhash, commt, types.Reason_REASON_JOIN)
	require.Equal(t, commitVector, hex.EncodeToString(commit))
	rotate := types.RotateSignBytes(chainID, mid, "alice", "phone", types.EphKeyHash(eph), eph2)
	require.Equal(t, rotateVector, hex.EncodeToString(rotate))
}

// signers builds every sign-bytes kind from one set of inputs, so tests can
// vary one input at a time.
type inputs struct {
	chainID, user, device, user2, device2 string
	meetingID, ephPK, sealed, commitment  []byte
	rosterHash, newEphPK                  []byte
	epoch, duration, leaderChanges        uint64
	validUntil                            int64
	ephPKHash                             []byte
	policy                                types.Policy
	members                               []types.MemberRef
	reason                                types.Reason
}

func base() inputs {
	return inputs{
		chainID: chainID, user: "alice", device: "phone", user2: "bob", device2: "desk",
		meetingID: mid, ephPK: eph, sealed: []byte("sealed"), commitment: commt, rosterHash: rhash, newEphPK: eph2,
		epoch: 3, duration: 3600, policy: pol, members: refs, reason: types.Reason_REASON_JOIN,
		leaderChanges: 2, validUntil: 1800000000, ephPKHash: types.EphKeyHash(eph),
	}
}

var kinds = map[string]func(in inputs) []byte{
	"create": func(in inputs) []byte {
		return types.CreateSignBytes(in.chainID, in.meetingID, in.user, in.device, in.ephPK, in.policy, in.duration, in.validUntil, 0)
	},
	"request": func(in inputs) []byte {
		return types.RequestSignBytes(in.chainID, in.meetingID, int64(in.duration), in.user, in.device, in.ephPK, in.sealed)
	},
	"commit": func(in inputs) []byte {
		return types.CommitSignBytes(in.chainID, in.meetingID, in.epoch, in.members, in.rosterHash, in.commitment, in.reason)
	},
	"rotate": func(in inputs) []byte {
		return types.RotateSignBytes(in.chainID, in.meetingID, in.user, in.device, in.ephPKHash, in.newEphPK)
	},
	"leave": func(in inputs) []byte {
		return types.LeaveSignBytes(in.chainID, in.meetingID, in.user, in.device, in.ephPKHash)
	},
	"transfer": func(in inputs) []byte {
		return types.TransferSignBytes(in.chainID, in.meetingID, in.epoch, in.leaderChanges, in.user2, in.device2)
	},
	"claim": func(in inputs) []byte {
		return types.ClaimSignBytes(in.chainID, in.meetingID, in.epoch, in.leaderChanges, in.user, in.device, in.ephPK)
	},
	"end": func(in inputs) []byte { return types.EndSignBytes(in.chainID, in.meetingID, in.epoch) },
}

func TestSignBytesDeterministic(t *testing.T) {
	for name, sb := range kinds {
		require.Equal(t, sb(base()), sb(base()), name)
	}
}

func TestSignBytesDomainsDiffer(t *testing.T) {
	domains := []string{types.DomainCreate, types.DomainRequest, types.DomainCommit, types.DomainLeave,
		types.DomainTransfer, types.DomainClaim, types.DomainRotate, types.DomainEnd}
	seen := map[string]bool{}
	for _, d := range domains {
		require.False(t, seen[d], "domain %q used twice", d)
		seen[d] = true
	}
	byKind := map[string]string{"create": types.DomainCreate, "request": types.DomainRequest, "commit": types.DomainCommit,
		"leave": types.DomainLeave, "transfer": types.DomainTransfer, "claim": types.DomainClaim, "rotate": types.DomainRotate, "end": types.DomainEnd}
	outs := map[string]string{}
	for name, sb := range kinds {
		got := sb(base())
		// Each begins with str(domain) ‖ str(chain_id) ‖ str(meeting_id).
		var prefix []byte
		for _, s := range []string{byKind[name], chainID, string(mid)} {
			prefix = binary.BigEndian.AppendUint16(prefix, uint16(len(s)))
			prefix = append(prefix, s...)
		}
		require.True(t, bytes.HasPrefix(got, prefix), name)
		if other, dup := outs[string(got)]; dup {
			t.Fatalf("%s and %s sign the same bytes", name, other)
		}
		outs[string(got)] = name
	}
}

// Every input a signature is meant to cover changes the bytes signed.
func TestSignBytesCoverEveryField(t *testing.T) {
	mutations := map[string]func(in *inputs){
		"chain_id":             func(in *inputs) { in.chainID = "parley-2" },
		"meeting_id":           func(in *inputs) { in.meetingID = mid2 },
		"user_id":              func(in *inputs) { in.user = "alicf" },
		"device_id":            func(in *inputs) { in.device = "phonf" },
		"user/device boundary": func(in *inputs) { in.user, in.device = "alicep", "hone" },
		"new leader user":      func(in *inputs) { in.user2 = "bobby" },
		"new leader device":    func(in *inputs) { in.device2 = "desk2" },
		"eph_pk":               func(in *inputs) { in.ephPK = eph2 },
		"sealed":               func(in *inputs) { in.sealed = []byte("sealeD") },
		"sealed empty":         func(in *inputs) { in.sealed = nil },
		"epoch":                func(in *inputs) { in.epoch = 4 },
		"duration":             func(in *inputs) { in.duration = 3601 },
		"max_participants":     func(in *inputs) { in.policy.MaxParticipants = 9 },
		"allowlist entry":      func(in *inputs) { in.policy.Allowlist = []string{"alice", "bod"} },
		"allowlist length":     func(in *inputs) { in.policy.Allowlist = []string{"alice"} },
		"allowlist split":      func(in *inputs) { in.policy.Allowlist = []string{"alicebob"} },
		"passcode_required":    func(in *inputs) { in.policy.PasscodeRequired = false },
		"members":              func(in *inputs) { in.members = refs[:1] },
		"member device":        func(in *inputs) { in.members = []types.MemberRef{refs[0], {UserId: "bob", DeviceId: "desl"}} },
		"member order":         func(in *inputs) { in.members = []types.MemberRef{refs[1], refs[0]} },
		"key_commitment":       func(in *inputs) { in.commitment = append(bytes.Repeat([]byte{7}, 31), 8) },
		"reason":               func(in *inputs) { in.reason = types.Reason_REASON_REMOVE },
		"valid_until":          func(in *inputs) { in.validUntil++ },
		"leader_changes":       func(in *inputs) { in.leaderChanges++ },
		"eph_pk_hash":          func(in *inputs) { in.ephPKHash = types.EphKeyHash(eph2) },
		"eph_pk_hash empty":    func(in *inputs) { in.ephPKHash = nil },
		"roster_hash":          func(in *inputs) { in.rosterHash = append(bytes.Repeat([]byte{0x11}, 31), 0x12) },
		"roster_hash empty":    func(in *inputs) { in.rosterHash = nil },
		"hash/commitment swap": func(in *inputs) { in.rosterHash, in.commitment = in.commitment, in.rosterHash },
		"new eph_pk":           func(in *inputs) { in.newEphPK = eph },
	}
	covers := map[string][]string{
		"create":   {"chain_id", "meeting_id", "user_id", "device_id", "user/device boundary", "eph_pk", "duration", "max_participants", "allowlist entry", "allowlist length", "allowlist split", "passcode_required", "valid_until"},
		"request":  {"chain_id", "meeting_id", "user_id", "device_id", "user/device boundary", "eph_pk", "sealed", "sealed empty"},
		"commit":   {"chain_id", "meeting_id", "epoch", "members", "member device", "member order", "roster_hash", "roster_hash empty", "hash/commitment swap", "key_commitment", "reason"},
		"rotate":   {"chain_id", "meeting_id", "user_id", "device_id", "user/device boundary", "eph_pk_hash", "eph_pk_hash empty", "new eph_pk"},
		"leave":    {"chain_id", "meeting_id", "user_id", "device_id", "user/device boundary", "eph_pk_hash", "eph_pk_hash empty"},
		"transfer": {"chain_id", "meeting_id", "epoch", "leader_changes", "new leader user", "new leader device"},
		"claim":    {"chain_id", "meeting_id", "epoch", "leader_changes", "user_id", "device_id", "user/device boundary", "eph_pk"},
		"end":      {"chain_id", "meeting_id", "epoch"},
	}
	for name, fields := range covers {
		for _, field := range fields {
			t.Run(fmt.Sprintf("%s/%s", name, field), func(t *testing.T) {
				in := base()
				mutations[field](&in)
				require.NotEqual(t, kinds[name](base()), kinds[name](in))
			})
		}
	}
}

func TestCommitSignBytesCoversMemberOrder(t *testing.T) {
	ab := types.CommitSignBytes(chainID, mid, 1, refs, rhash, commt, types.Reason_REASON_JOIN)
	ba := types.CommitSignBytes(chainID, mid, 1, []types.MemberRef{refs[1], refs[0]}, rhash, commt, types.Reason_REASON_JOIN)
	require.NotEqual(t, ab, ba)
}
