package call_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/parleynet/parley/client/call"
)

func testSignal(kind call.Kind) *call.Signal {
	s := &call.Signal{
		Kind: kind, FromUser: "alice", FromDevice: "laptop", ToUser: "bob", ToDevice: "phone",
		MeetingID: []byte("0123456789abcdef"), Epoch: 7, Seq: 3,
	}
	copy(s.Session[:], "sessionsession16")
	switch kind {
	case call.KindOffer, call.KindAnswer:
		s.SDP, s.DTLSFingerprint = "v=0\r\n", "sha-256 AB:CD"
	case call.KindCandidate:
		s.Candidate, s.DTLSFingerprint = "candidate:1 1 udp 1 10.0.0.1 5000 typ host", "sha-256 AB:CD"
	case call.KindRestart:
		s.DTLSFingerprint = "sha-256 AB:CD"
	case call.KindMessage:
		s.Message = "\x01\x01hello"
	}
	return s
}

func TestSignalRoundTrip(t *testing.T) {
	for _, kind := range []call.Kind{call.KindOffer, call.KindAnswer, call.KindCandidate, call.KindBye, call.KindRestart, call.KindKeys, call.KindMessage} {
		t.Run(kind.String(), func(t *testing.T) {
			s := testSignal(kind)
			b, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := call.UnmarshalSignal(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := got.Marshal()
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs: %v\n%x\n%x", err, b, b2)
			}
			if got.Kind != s.Kind || got.SDP != s.SDP || got.Candidate != s.Candidate || got.Message != s.Message || got.Session != s.Session ||
				got.Seq != s.Seq || got.Epoch != s.Epoch || got.DTLSFingerprint != s.DTLSFingerprint {
				t.Fatalf("got %+v, want %+v", got, s)
			}
		})
	}
}

// TestSignalLayout pins the byte layout the package doc describes.
func TestSignalLayout(t *testing.T) {
	b, err := testSignal(call.KindBye).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "01" + "04" + // version, kind
		"05" + hex.EncodeToString([]byte("alice")) + "06" + hex.EncodeToString([]byte("laptop")) +
		"03" + hex.EncodeToString([]byte("bob")) + "05" + hex.EncodeToString([]byte("phone")) +
		hex.EncodeToString([]byte("0123456789abcdef")) + "0000000000000007" +
		hex.EncodeToString([]byte("sessionsession16")) + "0000000000000003" +
		"00" + "00000000" // no fingerprint, no payload
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("bye encodes as\n%s\nwant\n%s", got, want)
	}
}

func TestMarshalSignalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*call.Signal)
	}{
		{"unknown kind", func(s *call.Signal) { s.Kind = 9 }},
		{"empty from_user", func(s *call.Signal) { s.FromUser = "" }},
		{"long to_device", func(s *call.Signal) { s.ToDevice = strings.Repeat("d", call.MaxIDLen+1) }},
		{"short meeting ID", func(s *call.Signal) { s.MeetingID = s.MeetingID[:15] }},
		{"long fingerprint", func(s *call.Signal) { s.DTLSFingerprint = strings.Repeat("f", call.MaxFingerprintLen+1) }},
		{"long SDP", func(s *call.Signal) { s.SDP = strings.Repeat("s", call.MaxPayloadLen+1) }},
		{"offer without SDP", func(s *call.Signal) { s.SDP = "" }},
		{"offer without fingerprint", func(s *call.Signal) { s.DTLSFingerprint = "" }},
		{"offer with a candidate", func(s *call.Signal) { s.Candidate = "candidate:1" }},
		{"candidate with SDP", func(s *call.Signal) { s.Kind, s.Candidate = call.KindCandidate, "candidate:1" }},
		{"bye with SDP", func(s *call.Signal) { s.Kind = call.KindBye }},
		{"restart with SDP", func(s *call.Signal) { s.Kind = call.KindRestart }},
		{"restart without fingerprint", func(s *call.Signal) { s.Kind, s.SDP, s.DTLSFingerprint = call.KindRestart, "", "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSignal(call.KindOffer)
			tc.mod(s)
			if _, err := s.Marshal(); !errors.Is(err, call.ErrMalformedSignal) {
				t.Fatalf("Marshal: %v, want ErrMalformedSignal", err)
			}
		})
	}
}

func TestUnmarshalSignalErrors(t *testing.T) {
	valid, err := testSignal(call.KindOffer).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), valid...)) }
	payloadLen := len(valid) - len("v=0\r\n") - 4
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 2", mod(func(b []byte) []byte { b[0] = 2; return b })},
		{"kind 0", mod(func(b []byte) []byte { b[1] = 0; return b })},
		{"kind 5", mod(func(b []byte) []byte { b[1] = 5; return b })},
		{"empty from_user", mod(func(b []byte) []byte { return append(b[:2:2], append([]byte{0}, b[8:]...)...) })},
		{"from_user of 65 bytes", mod(func(b []byte) []byte { b[2] = 65; return b })},
		{"trailing byte", mod(func(b []byte) []byte { return append(b, 0) })},
		{"payload too long", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[payloadLen:], call.MaxPayloadLen+1)
			return b
		})},
		{"bye with payload", mod(func(b []byte) []byte { b[1] = byte(call.KindBye); return b })},
		{"offer without payload", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[payloadLen:], 0)
			return b[:payloadLen+4]
		})},
		{"too large", make([]byte, call.MaxSignalSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := call.UnmarshalSignal(tc.b); !errors.Is(err, call.ErrMalformedSignal) {
				t.Fatalf("UnmarshalSignal: %v, want ErrMalformedSignal", err)
			}
		})
	}
	for n := range len(valid) {
		if _, err := call.UnmarshalSignal(valid[:n]); !errors.Is(err, call.ErrMalformedSignal) {
			t.Fatalf("prefix of %d bytes: %v, want ErrMalformedSignal", n, err)
		}
	}
}
