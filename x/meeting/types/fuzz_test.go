package types_test

import (
	"bytes"
	"crypto/hpke"
	"encoding/binary"
	"testing"

	"github.com/parleynet/parley/x/meeting/types"
)

// FuzzSignBytes builds every kind of sign bytes from arbitrary inputs: none
// may panic, each must start with its length-prefixed domain, chain ID and
// meeting ID, and the same inputs must give the same bytes.
func FuzzSignBytes(f *testing.F) {
	f.Add("parley-1", mid, "alice", "phone", eph, []byte("sealed"), uint64(3), uint32(8), true, "bob", "desk", int32(1))
	f.Add("", []byte(nil), "", "", []byte(nil), []byte(nil), uint64(0), uint32(0), false, "", "", int32(0))
	f.Add("x", bytes.Repeat([]byte{0xff}, 300), "a/b", "c", make([]byte, types.EphKeySize), make([]byte, types.MaxSealedSize), ^uint64(0), ^uint32(0), true, "\x00", "é", int32(-1))
	f.Fuzz(func(t *testing.T, chainID string, meetingID []byte, user, device string, ephPK, sealed []byte,
		n uint64, maxP uint32, passcode bool, user2, device2 string, reason int32) {
		p := types.Policy{MaxParticipants: maxP, Allowlist: []string{user, user2}, PasscodeRequired: passcode}
		ms := []types.MemberRef{{UserId: user, DeviceId: device}, {UserId: user2, DeviceId: device2}}
		all := map[string]func() []byte{
			types.DomainCreate: func() []byte {
				return types.CreateSignBytes(chainID, meetingID, user, device, ephPK, p, n, int64(n), int64(n))
			},
			types.DomainRequest: func() []byte {
				return types.RequestSignBytes(chainID, meetingID, int64(n), user, device, ephPK, sealed)
			},
			types.DomainCommit: func() []byte {
				return types.CommitSignBytes(chainID, meetingID, n, ms, ephPK, sealed, types.Reason(reason))
			},
			types.DomainRotate: func() []byte {
				return types.RotateSignBytes(chainID, meetingID, user, device, sealed, ephPK)
			},
			types.DomainLeave:    func() []byte { return types.LeaveSignBytes(chainID, meetingID, user, device, ephPK) },
			types.DomainTransfer: func() []byte { return types.TransferSignBytes(chainID, meetingID, n, n, user2, device2) },
			types.DomainClaim:    func() []byte { return types.ClaimSignBytes(chainID, meetingID, n, n, user, device, ephPK) },
			types.DomainEnd:      func() []byte { return types.EndSignBytes(chainID, meetingID, n) },
		}
		short := len(chainID) <= 0xffff && len(meetingID) <= 0xffff
		var prefix []byte
		for _, s := range []string{chainID, string(meetingID)} {
			prefix = binary.BigEndian.AppendUint16(prefix, uint16(len(s)))
			prefix = append(prefix, s...)
		}
		for domain, sb := range all {
			got := sb()
			if !bytes.Equal(got, sb()) {
				t.Fatalf("%s: not deterministic", domain)
			}
			head := binary.BigEndian.AppendUint16(nil, uint16(len(domain)))
			head = append(head, domain...)
			if !bytes.HasPrefix(got, head) || (short && !bytes.HasPrefix(got[len(head):], prefix)) {
				t.Fatalf("%s: bytes do not begin with the domain, chain ID and meeting ID", domain)
			}
		}
	})
}

// FuzzValidateEphKey: ValidateEphKey never panics, and anything it accepts
// is 1216 bytes long and parses as an MLKEM768X25519 public key.
func FuzzValidateEphKey(f *testing.F) {
	k, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	good := k.PublicKey().Bytes()
	f.Add(good)
	f.Add(bytes.Repeat([]byte{0xff}, types.EphKeySize))
	f.Add(make([]byte, types.EphKeySize))
	f.Add(good[:types.EphKeySize-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, key []byte) {
		if err := types.ValidateEphKey("eph_pk", key); err != nil {
			return
		}
		if len(key) != types.EphKeySize {
			t.Fatalf("accepted a key of %d bytes", len(key))
		}
		if _, err := hpke.MLKEM768X25519().NewPublicKey(key); err != nil {
			t.Fatalf("accepted a key that does not parse: %v", err)
		}
	})
}
