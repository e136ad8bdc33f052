package call_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

func TestSealOpenSignal(t *testing.T) {
	alice := calltest.NewDevice(t, "alice", "laptop")
	bob := calltest.NewDevice(t, "bob", "phone")
	carol := calltest.NewDevice(t, "carol", "tablet")
	bobPub, err := ephPublic(bob)
	if err != nil {
		t.Fatal(err)
	}
	s := testSignal(call.KindOffer)
	s.MeetingID = calltest.MeetingID
	body, err := call.SealSignal(s, calltest.ChainID, alice.DeviceKey, bobPub)
	if err != nil {
		t.Fatal(err)
	}
	roster := func(user, device string) (ed25519.PublicKey, bool) {
		if user == "alice" && device == "laptop" {
			return alice.Member.DevicePub, true
		}
		return nil, false
	}
	got, err := call.OpenSignal(body, calltest.ChainID, calltest.MeetingID, bob.EphKey, roster)
	if err != nil {
		t.Fatal(err)
	}
	if got.SDP != s.SDP || got.Session != s.Session || got.FromUser != "alice" {
		t.Fatalf("opened %+v, want %+v", got, s)
	}
	if want := 1 + call.EncSize + len(mustMarshal(t, s)) + call.SignatureSize + 16; len(body) != want {
		t.Errorf("sealed body is %d bytes, want %d", len(body), want)
	}

	for _, tc := range []struct {
		name    string
		body    []byte
		chainID string
		meeting []byte
		roster  func(string, string) (ed25519.PublicKey, bool)
		want    error
	}{
		{"other recipient", nil, "", nil, nil, call.ErrOpenFailed},
		{"other chain", body, "parley-other", nil, nil, call.ErrOpenFailed},
		{"other meeting", body, "", []byte("another-meeting!"), nil, call.ErrOpenFailed},
		{"truncated", body[:len(body)-1], "", nil, nil, call.ErrOpenFailed},
		{"version 2", append([]byte{2}, body[1:]...), "", nil, nil, call.ErrOpenFailed},
		{"sender not in roster", body, "", nil, func(string, string) (ed25519.PublicKey, bool) { return nil, false }, call.ErrUnknownSender},
		{"roster has another key", body, "", nil, func(string, string) (ed25519.PublicKey, bool) { return carol.Member.DevicePub, true }, call.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, chainID, meeting, r, priv := tc.body, tc.chainID, tc.meeting, tc.roster, bob.EphKey
			if b == nil {
				b, priv = body, carol.EphKey
			}
			if chainID == "" {
				chainID = calltest.ChainID
			}
			if meeting == nil {
				meeting = calltest.MeetingID
			}
			if r == nil {
				r = roster
			}
			if _, err := call.OpenSignal(b, chainID, meeting, priv, r); !errors.Is(err, tc.want) {
				t.Fatalf("OpenSignal: %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("signer errors", func(t *testing.T) {
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if _, err := call.SealSignal(s, calltest.ChainID, ec, bobPub); !errors.Is(err, call.ErrSignFailed) {
			t.Errorf("ECDSA signer: %v, want ErrSignFailed", err)
		}
		if _, err := call.SealSignal(s, "", alice.DeviceKey, bobPub); !errors.Is(err, call.ErrInvalidConfig) {
			t.Errorf("empty chain ID: %v, want ErrInvalidConfig", err)
		}
		bad := *s
		bad.Kind = 0
		if _, err := call.SealSignal(&bad, calltest.ChainID, alice.DeviceKey, bobPub); !errors.Is(err, call.ErrMalformedSignal) {
			t.Errorf("bad signal: %v, want ErrMalformedSignal", err)
		}
	})
}

func mustMarshal(t *testing.T, s *call.Signal) []byte {
	t.Helper()
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
