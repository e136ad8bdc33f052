package keyschedule

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// Fixed test vector, also in doc.go. The expected values were computed once
// with this package and checked against an independent Python
// implementation (hmac, hashlib).
const (
	vectorChainID   = "parley-vectors"
	vectorMeetingID = "00112233445566778899aabbccddeeff"
	vectorEpoch     = 42
	// MK = 00 01 .. 1f, roster_hash = 20 21 .. 3f.
	vectorCtx        = "0e7061726c65792d766563746f727300112233445566778899aabbccddeeff000000000000002a202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	vectorCommitment = "7aba05e5a620e73179edbaf7140b45ec191d4c33448883309c1de398914445d0"
	vectorCodeDigest = "261c754a1c23e79652a476f3938e0a87fc46c8ceddd0072aa2903650fae0f8a4"
	vectorCode       = "05980 43812 74570 82318 03010 67392"
)

func vectorInputs(t *testing.T) ([]byte, Context) {
	mk := make([]byte, 32)
	roster := make([]byte, 32)
	for i := range mk {
		mk[i] = byte(i)
		roster[i] = byte(0x20 + i)
	}
	meeting, err := hex.DecodeString(vectorMeetingID)
	if err != nil {
		t.Fatal(err)
	}
	return mk, Context{ChainID: vectorChainID, MeetingID: meeting, Epoch: vectorEpoch, RosterHash: roster}
}

// vectorCtxByHand builds ctx from the layout in doc.go without the package.
func vectorCtxByHand(c Context) []byte {
	b := []byte{byte(len(c.ChainID))}
	b = append(b, c.ChainID...)
	b = append(b, c.MeetingID...)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	return append(b, c.RosterHash...)
}

func TestVectorContext(t *testing.T) {
	_, c := vectorInputs(t)
	got, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != vectorCtx {
		t.Fatalf("ctx = %x, want %s", got, vectorCtx)
	}
	if hex.EncodeToString(vectorCtxByHand(c)) != vectorCtx {
		t.Fatal("the hand-built ctx disagrees with the vector")
	}
}

func TestVectorCommitment(t *testing.T) {
	mk, c := vectorInputs(t)
	got, err := Commit(mk, c)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != vectorCommitment {
		t.Fatalf("Commit() = %x, want %s", got, vectorCommitment)
	}

	m := hmac.New(sha256.New, mk)
	m.Write([]byte("parley/v1/commit"))
	m.Write(vectorCtxByHand(c))
	if want := m.Sum(nil); !hmac.Equal(got, want) {
		t.Fatalf("Commit() = %x, re-derived %x", got, want)
	}
}

func TestVectorSecurityCode(t *testing.T) {
	_, c := vectorInputs(t)
	commitment, err := hex.DecodeString(vectorCommitment)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SecurityCode(c, commitment)
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorCode {
		t.Fatalf("SecurityCode() = %q, want %q", got, vectorCode)
	}

	// Re-derive with math/big rather than the shifts the package uses.
	d := sha256.Sum256(append(append([]byte("parley/v1/code"), vectorCtxByHand(c)...), commitment...))
	if hex.EncodeToString(d[:]) != vectorCodeDigest {
		t.Fatalf("digest = %x, want %s", d, vectorCodeDigest)
	}
	var groups []string
	for i := 0; i < 30; i += 5 {
		v := new(big.Int).Mod(new(big.Int).SetBytes(d[i:i+5]), big.NewInt(100000))
		groups = append(groups, fmt.Sprintf("%05d", v.Int64()))
	}
	if want := strings.Join(groups, " "); got != want {
		t.Fatalf("SecurityCode() = %q, re-derived %q", got, want)
	}
}

func TestSecurityCodeFormat(t *testing.T) {
	f := newFixture(t, 0)
	code, err := SecurityCode(f.ctx, f.commitment)
	if err != nil {
		t.Fatal(err)
	}
	groups := strings.Split(code, " ")
	if len(groups) != 6 {
		t.Fatalf("code %q has %d groups, want 6", code, len(groups))
	}
	for _, g := range groups {
		if len(g) != 5 || strings.Trim(g, "0123456789") != "" {
			t.Fatalf("code %q has a group %q that is not 5 digits", code, g)
		}
	}
	// Anything that differs gives another code.
	next := f.ctx.clone()
	next.Epoch++
	other, err := SecurityCode(next, f.commitment)
	if err != nil {
		t.Fatal(err)
	}
	if other == code {
		t.Fatal("two epochs share a security code")
	}
}

func TestCommitAndCodeErrors(t *testing.T) {
	f := newFixture(t, 0)
	bad := f.ctx.clone()
	bad.MeetingID = bad.MeetingID[:8]
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"commit with short key", func() error { _, err := Commit(f.mk[:31], f.ctx); return err }, ErrInvalidArgument},
		{"commit with bad context", func() error { _, err := Commit(f.mk, bad); return err }, ErrInvalidContext},
		{"code with short commitment", func() error { _, err := SecurityCode(f.ctx, f.commitment[:16]); return err }, ErrInvalidArgument},
		{"code with bad context", func() error { _, err := SecurityCode(bad, f.commitment); return err }, ErrInvalidContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewMeetingKey(t *testing.T) {
	a, b := NewMeetingKey(), NewMeetingKey()
	if len(a) != MeetingKeySize || hmac.Equal(a, b) {
		t.Fatalf("NewMeetingKey() gave %x and %x", a, b)
	}
}
