package types_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"
)

func testKey(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

func testPub(seed string) []byte { return []byte(testKey(seed).Public().(ed25519.PublicKey)) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestValidateUserID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"abc", true},
		{"alice", true},
		{"0ab", true},
		{"a.b", true},
		{"a-_.", true},
		{"a..", true},
		{strings.Repeat("a", 32), true},
		{"", false},
		{"a", false},
		{"ab", false},
		{strings.Repeat("a", 33), false},
		{"Abc", false},
		{"abC", false},
		{".abc", false},
		{"_abc", false},
		{"-abc", false},
		{"ab c", false},
		{"ab/c", false},
		{"ab@c", false},
		{"abc\n", false},
		{"\nabc", false},
		{"ábc", false},
		{"abc\x00", false},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			err := types.ValidateUserID("user_id", tc.id)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidUserID)
			require.Contains(t, err.Error(), "user_id")
		})
	}
}

func TestValidateDeviceID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"0", true},
		{".", true},
		{"-", true},
		{"_", true},
		{"new-phone.2_b", true},
		{strings.Repeat("d", 32), true},
		{"", false},
		{strings.Repeat("d", 33), false},
		{"A", false},
		{"a b", false},
		{"a/b", false},
		{"a\n", false},
		{"ä", false},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			err := types.ValidateDeviceID("device_id", tc.id)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidDeviceID)
			require.Contains(t, err.Error(), "device_id")
		})
	}
}

// smallOrder are encodings of the eight points of order dividing 8, plus
// non-canonical encodings of some of them.
var smallOrder = map[string]string{
	"zero (y=0, order 4)":           "0000000000000000000000000000000000000000000000000000000000000000",
	"zero, x sign set":              "0000000000000000000000000000000000000000000000000000000000000080",
	"identity (y=1)":                "0100000000000000000000000000000000000000000000000000000000000000",
	"identity, x sign set":          "0100000000000000000000000000000000000000000000000000000000000080",
	"order 2 (y=-1)":                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"order 8 a":                     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"order 8 b":                     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"order 8 c":                     "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"order 8 d":                     "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"identity, non-canonical y=p+1": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"zero, non-canonical y=p":       "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

func TestValidatePubKey(t *testing.T) {
	for _, seed := range []string{"a", "b", "c"} {
		require.NoError(t, types.ValidatePubKey("pubkey", testPub(seed)))
	}

	reject := map[string][]byte{
		"nil":                 nil,
		"empty":               {},
		"31 bytes":            testPub("a")[:31],
		"33 bytes":            append(testPub("a"), 0),
		"64 bytes (priv key)": testKey("a"),
		"not a point (y=2)":   mustHex("0200000000000000000000000000000000000000000000000000000000000000"),
		"not a point (y=7)":   mustHex("0700000000000000000000000000000000000000000000000000000000000000"),
	}
	for name, h := range smallOrder {
		reject[name] = mustHex(h)
	}
	for name, key := range reject {
		t.Run(name, func(t *testing.T) {
			err := types.ValidatePubKey("pubkey", key)
			require.ErrorIs(t, err, types.ErrInvalidPubKey)
			require.Contains(t, err.Error(), "pubkey")
		})
	}
}

// TestValidatePubKeyRejectsNonCanonical: f0ff..7f is y = p+3, a
// non-canonical encoding of the point 0300..00, which has large order.
// RFC 8032 §5.1.3 says decoding fails when y >= p; ValidatePubKey uses
// edwards25519.Point.SetBytes, which accepts such encodings, so one point
// has two accepted byte strings and the PubKeys index (keyed by bytes) can
// bind the same point to two devices. Using that needs signatures by the
// point, i.e. its discrete log, so the severity is low; the fix is to reject
// keys whose re-encoding (Point.Bytes) differs from the input.
func TestValidatePubKeyRejectsNonCanonical(t *testing.T) {
	canonical := mustHex("0300000000000000000000000000000000000000000000000000000000000000")
	require.NoError(t, types.ValidatePubKey("pubkey", canonical))
	nonCanonical := mustHex("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	require.ErrorIs(t, types.ValidatePubKey("pubkey", nonCanonical), types.ErrInvalidPubKey)
}

func TestVerifySignature(t *testing.T) {
	key := testKey("signer")
	pub := testPub("signer")
	msg := []byte("message")
	sig := ed25519.Sign(key, msg)
	require.NoError(t, types.VerifySignature("sig", pub, msg, sig))

	bad := append([]byte(nil), sig...)
	bad[0] ^= 1
	cases := map[string]struct{ key, msg, sig []byte }{
		"nil sig":       {pub, msg, nil},
		"short sig":     {pub, msg, sig[:63]},
		"long sig":      {pub, msg, append(append([]byte(nil), sig...), 0)},
		"flipped bit":   {pub, msg, bad},
		"other message": {pub, []byte("messagf"), sig},
		"other key":     {testPub("other"), msg, sig},
		"short key":     {pub[:31], msg, sig},
		"nil key":       {nil, msg, sig},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := types.VerifySignature("sig", tc.key, tc.msg, tc.sig)
			require.ErrorIs(t, err, types.ErrInvalidSignature)
			require.Contains(t, err.Error(), "sig")
		})
	}
}
