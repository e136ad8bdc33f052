package keyschedule

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// sampleEnvelope is a well-formed envelope with recognisable field bytes; it
// is not sealed or signed (encoding does not care).
func sampleEnvelope(chainID, user, device string) *Envelope {
	c := testContext(0x0102030405060708)
	c.ChainID = chainID
	return &Envelope{
		Version:       EnvelopeVersion,
		ChainID:       c.ChainID,
		MeetingID:     c.MeetingID,
		Epoch:         c.Epoch,
		RosterHash:    c.RosterHash,
		RecipientHash: bytes.Repeat([]byte{0x33}, KeyHashSize),
		SenderUser:    user,
		SenderDevice:  device,
		Enc:           bytes.Repeat([]byte{0x44}, EncSize),
		Ciphertext:    bytes.Repeat([]byte{0x55}, SealedKeySize),
		Signature:     bytes.Repeat([]byte{0x66}, SignatureSize),
	}
}

// TestEnvelopeLayout pins the wire layout field by field, independently of
// the encoder.
func TestEnvelopeLayout(t *testing.T) {
	e := sampleEnvelope("chain", "alice", "phone")
	var want []byte
	want = append(want, 1)
	want = append(want, 5)
	want = append(want, "chain"...)
	want = append(want, e.MeetingID...)
	want = binary.BigEndian.AppendUint64(want, 0x0102030405060708)
	want = append(want, e.RosterHash...)
	want = append(want, e.RecipientHash...)
	want = append(want, 5)
	want = append(want, "alice"...)
	want = append(want, 5)
	want = append(want, "phone"...)
	header := len(want)
	want = append(want, e.Enc...)
	want = append(want, e.Ciphertext...)
	signed := len(want)
	want = append(want, e.Signature...)

	got, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal() =\n%x\nwant\n%x", got, want)
	}
	if h := e.appendHeader(nil); !bytes.Equal(h, want[:header]) {
		t.Fatalf("header (AAD) = %x, want %x", h, want[:header])
	}
	if m := e.signedMessage(); !bytes.Equal(m, append([]byte("parley/v1/mk-envelope"), want[:signed]...)) {
		t.Fatalf("signed message = %x", m)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		env      *Envelope
		wantSize int
	}{
		{"smallest", sampleEnvelope("c", "u", "d"), MinEnvelopeSize},
		{"typical", sampleEnvelope("parley-1", "alice", "phone"), MinEnvelopeSize + 7 + 4 + 4},
		{"largest", sampleEnvelope(strings.Repeat("c", MaxChainIDLen), strings.Repeat("u", MaxIDLen), strings.Repeat("d", MaxIDLen)), MaxEnvelopeSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.env.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.wantSize {
				t.Fatalf("encoded size %d, want %d", len(b), tt.wantSize)
			}
			var got Envelope
			if err := got.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			b2, err := got.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatal("re-encoding differs")
			}
			b[len(b)-1] ^= 1 // the decoded envelope must not alias its input
			if got.Signature[SignatureSize-1] != 0x66 {
				t.Fatal("Unmarshal aliases its input")
			}
		})
	}
}

func TestEnvelopeUnmarshalErrors(t *testing.T) {
	valid, err := sampleEnvelope("chain", "alice", "phone").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	largest, err := sampleEnvelope(strings.Repeat("c", MaxChainIDLen), strings.Repeat("u", MaxIDLen), strings.Repeat("d", MaxIDLen)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Offsets of the length prefixes in valid.
	const chainLenAt = 1
	userLenAt := 1 + 1 + 5 + MeetingIDSize + 8 + RosterHashSize + KeyHashSize
	deviceLenAt := userLenAt + 1 + 5
	with := func(at int, v byte) []byte {
		b := append([]byte(nil), valid...)
		b[at] = v
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string
	}{
		{"empty", nil, ErrTruncated, "version needs 1 bytes at offset 0"},
		{"version only", valid[:1], ErrTruncated, "chain_id length"},
		{"cut in meeting id", valid[:10], ErrTruncated, "meeting_id"},
		{"cut in epoch", valid[:1+1+5+MeetingIDSize+3], ErrTruncated, "epoch"},
		{"cut in enc", valid[:deviceLenAt+6+100], ErrTruncated, "enc"},
		{"cut in signature", valid[:len(valid)-1], ErrTruncated, "signature needs 64 bytes"},
		{"one byte too large", make([]byte, MaxEnvelopeSize+1), ErrEnvelopeTooLarge, ""},
		{"largest plus trailing byte", append(append([]byte(nil), largest...), 0), ErrEnvelopeTooLarge, ""},
		{"trailing byte", append(append([]byte(nil), valid...), 0), ErrTrailingData, "1 bytes after the signature"},
		{"trailing envelope", append(append([]byte(nil), valid[:100]...), valid...)[:len(valid)+1], ErrTrailingData, ""},
		{"version 0", with(0, 0), ErrUnsupportedVersion, "version 0"},
		{"version 2", with(0, 2), ErrUnsupportedVersion, "version 2"},
		{"empty chain id", with(chainLenAt, 0), ErrMalformedEnvelope, "chain_id length 0"},
		{"empty sender user", with(userLenAt, 0), ErrMalformedEnvelope, "sender_user length 0"},
		{"sender user too long", with(userLenAt, MaxIDLen+1), ErrMalformedEnvelope, "sender_user length 65"},
		{"empty sender device", with(deviceLenAt, 0), ErrMalformedEnvelope, "sender_device length 0"},
		{"sender device too long", with(deviceLenAt, 0xff), ErrMalformedEnvelope, "sender_device length 255"},
		{"chain id length past the end", []byte{1, 0xff, 'a', 'b', 'c'}, ErrTruncated, "chain_id needs 255 bytes at offset 2, 3 left"},
		{"length byte shifts the fields", with(chainLenAt, 4), ErrMalformedEnvelope, "sender_device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEnvelope("untouched", "u", "d")
			err := e.Unmarshal(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Unmarshal() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Unmarshal() = %q, want it to mention %q", err, tt.wantMsg)
			}
			if e.ChainID != "untouched" {
				t.Fatal("failed Unmarshal modified the envelope")
			}
		})
	}
}

func TestEnvelopeUnmarshalEveryTruncation(t *testing.T) {
	valid, err := sampleEnvelope("chain", "alice", "phone").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(valid) {
		var e Envelope
		if err := e.Unmarshal(valid[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Unmarshal of the first %d bytes = %v, want ErrTruncated", n, err)
		}
	}
}

func TestEnvelopeMarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Envelope)
		wantErr error
		wantMsg string
	}{
		{"version 0", func(e *Envelope) { e.Version = 0 }, ErrUnsupportedVersion, "version 0"},
		{"empty chain id", func(e *Envelope) { e.ChainID = "" }, ErrInvalidContext, "chain_id is empty"},
		{"short meeting id", func(e *Envelope) { e.MeetingID = e.MeetingID[:15] }, ErrMalformedEnvelope, "meeting_id"},
		{"short roster hash", func(e *Envelope) { e.RosterHash = nil }, ErrMalformedEnvelope, "roster_hash"},
		{"short recipient hash", func(e *Envelope) { e.RecipientHash = e.RecipientHash[:31] }, ErrMalformedEnvelope, "recipient_hash"},
		{"empty sender user", func(e *Envelope) { e.SenderUser = "" }, ErrMalformedEnvelope, "sender_user"},
		{"long sender device", func(e *Envelope) { e.SenderDevice = strings.Repeat("d", MaxIDLen+1) }, ErrMalformedEnvelope, "sender_device"},
		{"long enc", func(e *Envelope) { e.Enc = append(e.Enc, 0) }, ErrMalformedEnvelope, "enc"},
		{"short ciphertext", func(e *Envelope) { e.Ciphertext = e.Ciphertext[:32] }, ErrMalformedEnvelope, "ciphertext"},
		{"no signature", func(e *Envelope) { e.Signature = nil }, ErrMalformedEnvelope, "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEnvelope("chain", "alice", "phone")
			tt.mutate(e)
			_, err := e.Marshal()
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Marshal() = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	fx := newFixture(f, 1)
	sealed, err := fx.seal(f, 0).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	largest, err := sampleEnvelope(strings.Repeat("c", MaxChainIDLen), strings.Repeat("u", MaxIDLen), strings.Repeat("d", MaxIDLen)).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(largest)
	f.Add(sealed[:200])
	f.Add(append(append([]byte(nil), sealed...), 0))
	f.Add([]byte{1, 0})
	f.Add([]byte{})
	errs := []error{ErrTruncated, ErrEnvelopeTooLarge, ErrTrailingData, ErrUnsupportedVersion, ErrMalformedEnvelope}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Envelope
		err := e.Unmarshal(b)
		if err != nil {
			for _, want := range errs {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("Unmarshal error %v wraps none of the decoding errors", err)
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded envelope: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("decoding is not canonical:\n in %x\nout %x", b, out)
		}
		// Open must reject it without panicking too.
		if _, err := Open(&e, fx.privs[0], fx.expect()); err == nil && !bytes.Equal(b, sealed) {
			t.Fatalf("Open accepted a fuzzed envelope")
		}
	})
}

// TestEnvelopeSizes pins the size constants to the numbers in doc.go and to
// what crypto/hpke really produces.
func TestEnvelopeSizes(t *testing.T) {
	if MinEnvelopeSize != 1327 || MaxEnvelopeSize != 1707 {
		t.Fatalf("MinEnvelopeSize, MaxEnvelopeSize = %d, %d; doc.go says 1327, 1707", MinEnvelopeSize, MaxEnvelopeSize)
	}
	f := newFixture(t, 1)
	env := f.seal(t, 0)
	if len(env.Enc) != EncSize || len(env.Ciphertext) != SealedKeySize || len(env.Signature) != SignatureSize {
		t.Fatalf("sealed sizes enc %d, ciphertext %d, signature %d", len(env.Enc), len(env.Ciphertext), len(env.Signature))
	}
	if len(f.members[0].PublicKey) != EphemeralPublicKeySize {
		t.Fatalf("public key is %d bytes", len(f.members[0].PublicKey))
	}
}
