package types_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"testing"

	"filippo.io/edwards25519"

	"github.com/parleynet/parley/x/identity/types"
)

// decodeSignBytes parses sign bytes back into fields by layout: 'b' is a
// length-prefixed byte string, 'u' an 8-byte number. It fails unless the
// layout consumes the input exactly.
func decodeSignBytes(b []byte, layout string) ([]any, error) {
	var out []any
	for _, c := range layout {
		switch c {
		case 'b':
			if len(b) < 2 {
				return nil, errors.New("short length prefix")
			}
			n := int(binary.BigEndian.Uint16(b))
			b = b[2:]
			if len(b) < n {
				return nil, errors.New("short field")
			}
			out = append(out, append([]byte{}, b[:n]...))
			b = b[n:]
		case 'u':
			if len(b) < 8 {
				return nil, errors.New("short number")
			}
			out = append(out, binary.BigEndian.Uint64(b))
			b = b[8:]
		}
	}
	if len(b) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

func fieldsEqual(got []any, want ...any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		switch w := want[i].(type) {
		case string:
			if !bytes.Equal(got[i].([]byte), []byte(w)) {
				return false
			}
		case []byte:
			if !bytes.Equal(got[i].([]byte), w) {
				return false
			}
		case uint64:
			if got[i].(uint64) != w {
				return false
			}
		}
	}
	return true
}

func FuzzSignBytes(f *testing.F) {
	f.Add("parley-test", vecOwner, "alice", "phone", []byte{1, 2, 3}, uint64(0), "tablet")
	f.Add("", "", "", "", []byte{}, uint64(1<<63), "")
	f.Add("ab", "c", "a", "bc", vecPubkey(), uint64(7), "x")
	f.Add("\x00\x00", "\xff", "/", "..", []byte{0, 0}, ^uint64(0), "\x00")
	f.Fuzz(func(t *testing.T, chain, owner, user, device string, pubkey []byte, seq uint64, other string) {
		for _, s := range []string{chain, owner, user, device, other, string(pubkey)} {
			if len(s) > 0xffff {
				// Past the 2-byte prefix the encoding is documented as
				// undefined; the module's bounds keep every field far below.
				t.Skip()
			}
		}
		cases := []struct {
			name   string
			got    []byte
			layout string
			want   []any
		}{
			{"register", types.RegisterSignBytes(chain, owner, user, device, pubkey), "bbbbbb",
				[]any{types.DomainRegister, chain, owner, user, device, pubkey}},
			{"add-pop", types.AddDevicePoPSignBytes(chain, owner, user, seq, device, pubkey), "bbbbubb",
				[]any{types.DomainAddPoP, chain, owner, user, seq, device, pubkey}},
			{"approve", types.ApproveSignBytes(chain, user, seq, device, pubkey, other), "bbbubbb",
				[]any{types.DomainApprove, chain, user, seq, device, pubkey, other}},
			{"revoke", types.RevokeSignBytes(chain, user, seq, device, other), "bbbubb",
				[]any{types.DomainRevoke, chain, user, seq, device, other}},
			{"reset", types.ResetSignBytes(chain, owner, user, seq, device, pubkey), "bbbbubb",
				[]any{types.DomainReset, chain, owner, user, seq, device, pubkey}},
		}
		for _, c := range cases {
			fields, err := decodeSignBytes(c.got, c.layout)
			if err != nil {
				t.Fatalf("%s: decode: %v", c.name, err)
			}
			if !fieldsEqual(fields, c.want...) {
				t.Fatalf("%s: round trip changed the fields: %q", c.name, fields)
			}
		}
	})
}

func FuzzValidatePubKey(f *testing.F) {
	f.Add(testPub("a"))
	f.Add(testPub("b"))
	f.Add([]byte{})
	f.Add(make([]byte, 31))
	f.Add(make([]byte, 33))
	f.Add(mustHex("0200000000000000000000000000000000000000000000000000000000000000"))
	f.Add(mustHex("0300000000000000000000000000000000000000000000000000000000000000"))
	for _, h := range smallOrder {
		f.Add(mustHex(h))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		in := append([]byte(nil), key...)
		err := types.ValidatePubKey("pubkey", key)
		if !bytes.Equal(in, key) {
			t.Fatal("ValidatePubKey changed its input")
		}
		// Verification of any key and signature must not panic either.
		_ = types.VerifySignature("sig", key, []byte("m"), make([]byte, ed25519.SignatureSize))
		if err != nil {
			if !errors.Is(err, types.ErrInvalidPubKey) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(key) != ed25519.PublicKeySize {
			t.Fatalf("accepted a key of %d bytes", len(key))
		}
		p, perr := new(edwards25519.Point).SetBytes(key)
		if perr != nil {
			t.Fatalf("accepted a key that is not a point: %x", key)
		}
		if !bytes.Equal(p.Bytes(), key) {
			// See TestValidatePubKeyRejectsNonCanonical.
			t.Fatalf("accepted a non-canonical encoding: %x", key)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
			t.Fatalf("accepted a small-order key: %x", key)
		}
	})
}
