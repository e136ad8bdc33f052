package mailboxv1_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

func validEnvelope() *mailboxv1.Envelope {
	return &mailboxv1.Envelope{
		To:          bytes.Repeat([]byte{0xaa}, 32),
		FromUser:    "alice",
		FromDevice:  "laptop",
		MeetingId:   bytes.Repeat([]byte{0x11}, 16),
		Kind:        mailboxv1.KindMeetingKey,
		Body:        []byte("ciphertext"),
		CreatedAtMs: 1_700_000_000_123,
		TtlSeconds:  60,
		Sig:         bytes.Repeat([]byte{0x55}, 64),
	}
}

// TestSignBytesLayout rebuilds the sign bytes by hand from the layout
// documented in doc.go.
func TestSignBytesLayout(t *testing.T) {
	e := validEnvelope()
	var want []byte
	str := func(b []byte) {
		want = binary.BigEndian.AppendUint16(want, uint16(len(b)))
		want = append(want, b...)
	}
	str([]byte("parley/v1/mailbox/envelope"))
	str([]byte("parley-1"))
	str(e.To)
	str([]byte(e.FromUser))
	str([]byte(e.FromDevice))
	str(e.MeetingId)
	want = binary.BigEndian.AppendUint64(want, 1)
	str(e.Body)
	want = binary.BigEndian.AppendUint64(want, 1_700_000_000_123)
	want = binary.BigEndian.AppendUint64(want, 60)

	got := mailboxv1.SignBytes("parley-1", e)
	if !bytes.Equal(got, want) {
		t.Fatalf("sign bytes\n got %x\nwant %x", got, want)
	}
	// The signature is not covered, and every other field is.
	e2 := validEnvelope()
	e2.Sig = nil
	if !bytes.Equal(mailboxv1.SignBytes("parley-1", e2), want) {
		t.Error("sign bytes depend on sig")
	}
	if bytes.Equal(mailboxv1.SignBytes("parley-2", e), want) {
		t.Error("sign bytes do not depend on the chain ID")
	}
}

// TestSignBytesVector pins the encoding so that a change shows up here.
func TestSignBytesVector(t *testing.T) {
	sum := sha256.Sum256(mailboxv1.SignBytes("parley-1", validEnvelope()))
	const want = "35c6d46ffaca3bf2c6fe8d6877dbc059deb4472c2d80906de45d9468be5fd9a9"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA-256 of the sign bytes = %s, want %s", got, want)
	}
}

func TestIDIsOverCanonicalEncoding(t *testing.T) {
	e := validEnvelope()
	id := mailboxv1.ID(e)
	bz, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if id != sha256.Sum256(bz) {
		t.Fatal("ID is not SHA-256 of Marshal")
	}
	// An unknown field (number 15, varint 1) is dropped when decoding, so a
	// relaying node cannot make a second ID for the same envelope.
	withUnknown := append(append([]byte(nil), bz...), 15<<3, 1)
	var d mailboxv1.Envelope
	if err := d.Unmarshal(withUnknown); err != nil {
		t.Fatal(err)
	}
	if mailboxv1.ID(&d) != id {
		t.Error("an unknown field changed the ID")
	}
	// Any field change, the signature included, changes the ID.
	e.Sig[0] ^= 1
	if mailboxv1.ID(e) == id {
		t.Error("ID does not cover sig")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(e *mailboxv1.Envelope)
		field string // "" means valid
	}{
		{"valid", func(*mailboxv1.Envelope) {}, ""},
		{"signal kind", func(e *mailboxv1.Envelope) { e.Kind = mailboxv1.KindSignal }, ""},
		{"largest body", func(e *mailboxv1.Envelope) { e.Body = make([]byte, mailboxv1.MaxBodySize) }, ""},
		{"ttl 1", func(e *mailboxv1.Envelope) { e.TtlSeconds = 1 }, ""},
		{"ttl 600", func(e *mailboxv1.Envelope) { e.TtlSeconds = 600 }, ""},
		{"to short", func(e *mailboxv1.Envelope) { e.To = e.To[:31] }, "to"},
		{"to missing", func(e *mailboxv1.Envelope) { e.To = nil }, "to"},
		{"from_user empty", func(e *mailboxv1.Envelope) { e.FromUser = "" }, "from_user"},
		{"from_user upper", func(e *mailboxv1.Envelope) { e.FromUser = "Alice" }, "from_user"},
		{"from_user too long", func(e *mailboxv1.Envelope) { e.FromUser = strings.Repeat("a", 33) }, "from_user"},
		{"from_device empty", func(e *mailboxv1.Envelope) { e.FromDevice = "" }, "from_device"},
		{"from_device slash", func(e *mailboxv1.Envelope) { e.FromDevice = "a/b" }, "from_device"},
		{"meeting_id short", func(e *mailboxv1.Envelope) { e.MeetingId = e.MeetingId[:15] }, "meeting_id"},
		{"kind 0", func(e *mailboxv1.Envelope) { e.Kind = 0 }, "kind"},
		{"kind reserved", func(e *mailboxv1.Envelope) { e.Kind = 4 }, "kind"},
		{"body empty", func(e *mailboxv1.Envelope) { e.Body = nil }, "body"},
		{"body too large", func(e *mailboxv1.Envelope) { e.Body = make([]byte, mailboxv1.MaxBodySize+1) }, "body"},
		{"created_at zero", func(e *mailboxv1.Envelope) { e.CreatedAtMs = 0 }, "created_at_ms"},
		{"created_at negative", func(e *mailboxv1.Envelope) { e.CreatedAtMs = -1 }, "created_at_ms"},
		{"ttl 0", func(e *mailboxv1.Envelope) { e.TtlSeconds = 0 }, "ttl_seconds"},
		{"ttl 601", func(e *mailboxv1.Envelope) { e.TtlSeconds = 601 }, "ttl_seconds"},
		{"sig missing", func(e *mailboxv1.Envelope) { e.Sig = nil }, "sig"},
		{"sig long", func(e *mailboxv1.Envelope) { e.Sig = make([]byte, 65) }, "sig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnvelope()
			tc.mod(e)
			err := mailboxv1.Validate(e)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, mailboxv1.ErrInvalidEnvelope) {
				t.Fatalf("Validate = %v, want ErrInvalidEnvelope", err)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("error %q does not name field %s", err, tc.field)
			}
		})
	}
	if err := mailboxv1.Validate(nil); !errors.Is(err, mailboxv1.ErrInvalidEnvelope) {
		t.Errorf("Validate(nil) = %v", err)
	}
}

// TestMaxEnvelopeSize checks that the largest valid envelope fits the
// bounds the gRPC server and the p2p channel enforce.
func TestMaxEnvelopeSize(t *testing.T) {
	e := validEnvelope()
	e.Body = make([]byte, mailboxv1.MaxBodySize)
	e.FromUser = strings.Repeat("u", 32)
	e.FromDevice = strings.Repeat("d", 32)
	e.CreatedAtMs = 1<<63 - 1
	e.Kind = mailboxv1.KindSignal
	e.TtlSeconds = mailboxv1.MaxTTLSeconds
	if err := mailboxv1.Validate(e); err != nil {
		t.Fatal(err)
	}
	if n := e.Size(); n > mailboxv1.MaxEnvelopeSize {
		t.Errorf("largest envelope is %d bytes, MaxEnvelopeSize %d", n, mailboxv1.MaxEnvelopeSize)
	}
	g := &mailboxv1.GossipMessage{Envelope: e}
	if n := g.Size(); n > mailboxv1.MaxGossipMessageSize {
		t.Errorf("largest gossip message is %d bytes, MaxGossipMessageSize %d", n, mailboxv1.MaxGossipMessageSize)
	}
}
