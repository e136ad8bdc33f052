package call_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// FuzzUnmarshalSignal: any input either fails with ErrMalformedSignal or
// is the canonical encoding of what it decodes to.
func FuzzUnmarshalSignal(f *testing.F) {
	for _, kind := range []call.Kind{call.KindOffer, call.KindAnswer, call.KindCandidate, call.KindBye, call.KindRestart} {
		b, err := testSignal(kind).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := call.UnmarshalSignal(b)
		if err != nil {
			if !errors.Is(err, call.ErrMalformedSignal) {
				t.Fatalf("error %v does not wrap ErrMalformedSignal", err)
			}
			return
		}
		again, err := s.Marshal()
		if err != nil {
			t.Fatalf("decoded signal does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n%x\n%x", b, again)
		}
	})
}

// FuzzOpenSignal: no sealed body, however mangled, panics or opens unless
// it is authentic.
func FuzzOpenSignal(f *testing.F) {
	alice := calltest.NewDevice(f, "alice", "laptop")
	bob := calltest.NewDevice(f, "bob", "phone")
	pk, err := ephPublic(bob)
	if err != nil {
		f.Fatal(err)
	}
	s := testSignal(call.KindCandidate)
	s.MeetingID = calltest.MeetingID
	valid, err := call.SealSignal(s, calltest.ChainID, alice.DeviceKey, pk)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add([]byte{1})
	lookup := func(user, device string) (ed25519.PublicKey, bool) {
		return alice.Member.DevicePub, user == "alice" && device == "laptop"
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := call.OpenSignal(b, calltest.ChainID, calltest.MeetingID, bob.EphKey, lookup)
		if err == nil && !bytes.Equal(b, valid) {
			t.Fatalf("a body other than the sealed one opened: %+v", got)
		}
	})
}
