package types_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/meeting/types"
)

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// rosterVector is RosterHash(00..0f, [alice/phone sha256("k1"), bob/desk
// sha256("k2")]), computed outside Go; emptyRosterVector is that of no
// members.
const (
	rosterVector      = "64fa2727dd3f6045ac5fe1dae62c833e45aa6af7243822329ef87d848868088c"
	emptyRosterVector = "621152a6db8b8ff839c50fcb6b0834dd69fe2539bd966efa1fa698ca3332fbd8"
)

func TestRosterHashVector(t *testing.T) {
	members := []types.Member{
		{UserId: "alice", DeviceId: "phone", EphPkHash: hashOf("k1")},
		{UserId: "bob", DeviceId: "desk", EphPkHash: hashOf("k2")},
	}
	// By hand: str(x) = u16_be(len(x)) ‖ x.
	var pre []byte
	str := func(s []byte) {
		pre = binary.BigEndian.AppendUint16(pre, uint16(len(s)))
		pre = append(pre, s...)
	}
	str([]byte("parley/v1/roster"))
	str(mid)
	pre = binary.BigEndian.AppendUint32(pre, 2)
	for _, m := range members {
		str([]byte(m.UserId))
		str([]byte(m.DeviceId))
		str(m.EphPkHash)
	}
	want := sha256.Sum256(pre)

	got := types.RosterHash(mid, members)
	require.Equal(t, want[:], got)
	require.Equal(t, rosterVector, hex.EncodeToString(got))
	require.Equal(t, emptyRosterVector, hex.EncodeToString(types.RosterHash(mid, nil)))
}

func TestRosterHashCoversEverything(t *testing.T) {
	members := func() []types.Member {
		return []types.Member{
			{UserId: "alice", DeviceId: "phone", EphPkHash: hashOf("k1")},
			{UserId: "bob", DeviceId: "desk", EphPkHash: hashOf("k2")},
		}
	}
	base := types.RosterHash(mid, members())
	for name, change := range map[string]func(ms []types.Member) ([]byte, []types.Member){
		"meeting_id":    func(ms []types.Member) ([]byte, []types.Member) { return mid2, ms },
		"order":         func(ms []types.Member) ([]byte, []types.Member) { return mid, []types.Member{ms[1], ms[0]} },
		"fewer members": func(ms []types.Member) ([]byte, []types.Member) { return mid, ms[:1] },
		"user_id":       func(ms []types.Member) ([]byte, []types.Member) { ms[1].UserId = "bobby"; return mid, ms },
		"device_id":     func(ms []types.Member) ([]byte, []types.Member) { ms[0].DeviceId = "tablet"; return mid, ms },
		"eph_pk_hash":   func(ms []types.Member) ([]byte, []types.Member) { ms[0].EphPkHash = hashOf("k3"); return mid, ms },
		"field boundary": func(ms []types.Member) ([]byte, []types.Member) {
			ms[0].UserId, ms[0].DeviceId = "alicep", "hone"
			return mid, ms
		},
	} {
		id, ms := change(members())
		require.NotEqual(t, base, types.RosterHash(id, ms), name)
	}
}

func TestSortMembersAndSenderIndex(t *testing.T) {
	ms := []types.Member{
		{UserId: "carol", DeviceId: "a"},
		{UserId: "alice", DeviceId: "tablet"},
		{UserId: "bob", DeviceId: "desk"},
		{UserId: "alice", DeviceId: "phone"},
		{UserId: "alice.b", DeviceId: "x"},
	}
	types.SortMembers(ms)
	var got []string
	for _, m := range ms {
		got = append(got, m.Ref().String())
	}
	require.Equal(t, []string{"alice/phone", "alice/tablet", "alice.b/x", "bob/desk", "carol/a"}, got)
	require.Equal(t, 0, types.SenderIndex(ms, "alice", "phone"))
	require.Equal(t, 3, types.SenderIndex(ms, "bob", "desk"))
	require.Equal(t, -1, types.SenderIndex(ms, "bob", "phone"))
	require.Equal(t, -1, types.SenderIndex(nil, "bob", "desk"))
}
