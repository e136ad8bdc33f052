package types_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"
)

const (
	vecChain = "parley-test"
	vecOwner = "parley1qyqszqgpqyqszqgpqyqszqgpqyqszqgpgakpp4"
)

func vecPubkey() []byte {
	pk := make([]byte, 32)
	for i := range pk {
		pk[i] = byte(i)
	}
	return pk
}

// Pinned vectors: clients in other languages must produce these bytes. A
// change here is a breaking change of every device signature.
const (
	registerVector = "001b7061726c65792f76312f6964656e746974792f7265676973746572" + // domain
		"000b7061726c65792d74657374" + // chain ID
		"002d7061726c657931717971737a716770717971737a716770717971737a716770717971737a71677067616b707034" + // owner
		"0005616c696365" + // user ID
		"000570686f6e65" + // device ID
		"0020000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" // pubkey
	approveVector = "001a7061726c65792f76312f6964656e746974792f617070726f7665" + // domain
		"000b7061726c65792d74657374" + // chain ID
		"0005616c696365" + // user ID
		"0000000000000007" + // seq
		"00066c6170746f70" + // device ID
		"0020000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + // pubkey
		"000570686f6e65" // approver device ID
)

// handBuilt encodes fields with the documented layout, independently of
// SignBytes: strings and byte strings with a 2-byte big-endian length,
// uint64 as 8 bytes big-endian.
func handBuilt(fields ...any) []byte {
	var out []byte
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			out = binary.BigEndian.AppendUint16(out, uint16(len(v)))
			out = append(out, v...)
		case []byte:
			out = binary.BigEndian.AppendUint16(out, uint16(len(v)))
			out = append(out, v...)
		case uint64:
			out = binary.BigEndian.AppendUint64(out, v)
		default:
			panic("unsupported field")
		}
	}
	return out
}

func TestRegisterSignBytesVector(t *testing.T) {
	got := types.RegisterSignBytes(vecChain, vecOwner, "alice", "phone", vecPubkey())
	require.Equal(t, registerVector, hex.EncodeToString(got))
	require.Equal(t, handBuilt(types.DomainRegister, vecChain, vecOwner, "alice", "phone", vecPubkey()), got)
}

func TestApproveSignBytesVector(t *testing.T) {
	got := types.ApproveSignBytes(vecChain, "alice", 7, "laptop", vecPubkey(), "phone")
	require.Equal(t, approveVector, hex.EncodeToString(got))
	require.Equal(t, handBuilt(types.DomainApprove, vecChain, "alice", uint64(7), "laptop", vecPubkey(), "phone"), got)
}

// TestSignBytesLayout pins every constructor's field order against the
// hand-built encoding.
func TestSignBytesLayout(t *testing.T) {
	pk := vecPubkey()
	const seq = uint64(0x0102030405060708)
	cases := []struct {
		name      string
		got, want []byte
	}{
		{"register", types.RegisterSignBytes(vecChain, vecOwner, "u", "d", pk),
			handBuilt(types.DomainRegister, vecChain, vecOwner, "u", "d", pk)},
		{"add-pop", types.AddDevicePoPSignBytes(vecChain, vecOwner, "u", seq, "d", pk),
			handBuilt(types.DomainAddPoP, vecChain, vecOwner, "u", seq, "d", pk)},
		{"approve", types.ApproveSignBytes(vecChain, "u", seq, "d", pk, "a"),
			handBuilt(types.DomainApprove, vecChain, "u", seq, "d", pk, "a")},
		{"revoke", types.RevokeSignBytes(vecChain, "u", seq, "d", "s"),
			handBuilt(types.DomainRevoke, vecChain, "u", seq, "d", "s")},
		{"reset", types.ResetSignBytes(vecChain, vecOwner, "u", seq, "d", pk),
			handBuilt(types.DomainReset, vecChain, vecOwner, "u", seq, "d", pk)},
		{"builder", types.NewSignBytes("dom", "c").String("").Bytes(nil).Uint64(0).Done(),
			handBuilt("dom", "c", "", []byte{}, uint64(0))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}

func TestSignBytesDeterministic(t *testing.T) {
	for i := 0; i < 3; i++ {
		require.Equal(t,
			types.AddDevicePoPSignBytes(vecChain, vecOwner, "alice", 3, "phone", vecPubkey()),
			types.AddDevicePoPSignBytes(vecChain, vecOwner, "alice", 3, "phone", vecPubkey()))
	}
	// The result does not alias its inputs.
	pk := vecPubkey()
	b := types.RegisterSignBytes(vecChain, vecOwner, "alice", "phone", pk)
	pk[0] = 0xff
	require.Equal(t, registerVector, hex.EncodeToString(b))
}

// signInputs are the fields any constructor takes.
type signInputs struct {
	chain, owner, user, device, other string
	seq                               uint64
	pubkey                            []byte
}

func baseInputs() signInputs {
	return signInputs{vecChain, vecOwner, "alice", "phone", "tablet", 5, vecPubkey()}
}

// allDomains encodes in with every constructor.
func allDomains(in signInputs) map[string][]byte {
	return map[string][]byte{
		"register": types.RegisterSignBytes(in.chain, in.owner, in.user, in.device, in.pubkey),
		"add-pop":  types.AddDevicePoPSignBytes(in.chain, in.owner, in.user, in.seq, in.device, in.pubkey),
		"approve":  types.ApproveSignBytes(in.chain, in.user, in.seq, in.device, in.pubkey, in.other),
		"revoke":   types.RevokeSignBytes(in.chain, in.user, in.seq, in.device, in.other),
		"reset":    types.ResetSignBytes(in.chain, in.owner, in.user, in.seq, in.device, in.pubkey),
	}
}

// TestSignBytesEveryFieldCounts changes one field at a time; every
// constructor that covers the field must change its bytes.
func TestSignBytesEveryFieldCounts(t *testing.T) {
	base := allDomains(baseInputs())
	flipped := append([]byte(nil), vecPubkey()...)
	flipped[31] ^= 1
	changes := []struct {
		field  string
		mod    func(*signInputs)
		covers []string
	}{
		{"chain", func(in *signInputs) { in.chain = "other-chain" }, []string{"register", "add-pop", "approve", "revoke", "reset"}},
		{"owner", func(in *signInputs) { in.owner += "x" }, []string{"register", "add-pop", "reset"}},
		{"user", func(in *signInputs) { in.user = "alicf" }, []string{"register", "add-pop", "approve", "revoke", "reset"}},
		{"device", func(in *signInputs) { in.device = "phone2" }, []string{"register", "add-pop", "approve", "revoke", "reset"}},
		{"other", func(in *signInputs) { in.other = "tablet2" }, []string{"approve", "revoke"}},
		{"seq", func(in *signInputs) { in.seq++ }, []string{"add-pop", "approve", "revoke", "reset"}},
		{"seq high byte", func(in *signInputs) { in.seq |= 1 << 63 }, []string{"add-pop", "approve", "revoke", "reset"}},
		{"pubkey", func(in *signInputs) { in.pubkey = flipped }, []string{"register", "add-pop", "approve", "reset"}},
		{"pubkey empty", func(in *signInputs) { in.pubkey = nil }, []string{"register", "add-pop", "approve", "reset"}},
	}
	for _, c := range changes {
		t.Run(c.field, func(t *testing.T) {
			in := baseInputs()
			c.mod(&in)
			got := allDomains(in)
			for _, d := range c.covers {
				require.NotEqualf(t, base[d], got[d], "%s does not cover %s", d, c.field)
			}
		})
	}
}

// TestSignBytesBoundaries checks that moving bytes between adjacent fields
// changes the encoding, the property the length prefixes exist for.
func TestSignBytesBoundaries(t *testing.T) {
	pairs := []struct {
		name string
		a, b []byte
	}{
		{"builder strings", types.NewSignBytes("d", "c").String("ab").String("c").Done(),
			types.NewSignBytes("d", "c").String("a").String("bc").Done()},
		{"domain and chain", types.NewSignBytes("ab", "c").Done(), types.NewSignBytes("a", "bc").Done()},
		{"empty field", types.NewSignBytes("d", "c").String("").String("a").Done(),
			types.NewSignBytes("d", "c").String("a").String("").Done()},
		{"revoke device/signer", types.RevokeSignBytes(vecChain, "alice", 1, "ab", "c"),
			types.RevokeSignBytes(vecChain, "alice", 1, "a", "bc")},
		{"register user/device", types.RegisterSignBytes(vecChain, vecOwner, "abc", "d", vecPubkey()),
			types.RegisterSignBytes(vecChain, vecOwner, "ab", "cd", vecPubkey())},
		{"register chain/owner", types.RegisterSignBytes("parley", "-test"+vecOwner, "alice", "phone", vecPubkey()),
			types.RegisterSignBytes("parley-test", vecOwner, "alice", "phone", vecPubkey())},
		{"approve pubkey/approver", types.ApproveSignBytes(vecChain, "alice", 1, "d", []byte("kx"), "y"),
			types.ApproveSignBytes(vecChain, "alice", 1, "d", []byte("k"), "xy")},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			require.NotEqual(t, p.a, p.b)
		})
	}
}

// TestSignBytesDomainsDiffer checks that no two actions share sign bytes for
// the same inputs and that the domain strings are distinct.
func TestSignBytesDomainsDiffer(t *testing.T) {
	domains := []string{types.DomainRegister, types.DomainAddPoP, types.DomainApprove, types.DomainRevoke, types.DomainReset}
	seen := map[string]bool{}
	for _, d := range domains {
		require.False(t, seen[d], "domain %q used twice", d)
		seen[d] = true
	}
	enc := allDomains(baseInputs())
	for a, x := range enc {
		for b, y := range enc {
			if a != b {
				require.Falsef(t, bytes.Equal(x, y), "%s and %s sign the same bytes", a, b)
			}
		}
		require.True(t, bytes.HasPrefix(x, handBuilt(domainOf(a), vecChain)), "%s starts with its domain and chain ID", a)
	}
}

func domainOf(name string) string {
	return map[string]string{
		"register": types.DomainRegister, "add-pop": types.DomainAddPoP, "approve": types.DomainApprove,
		"revoke": types.DomainRevoke, "reset": types.DomainReset,
	}[name]
}
