package keyschedule

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Envelope encoding constants; the layout is in doc.go.
const (
	// EnvelopeVersion is the only version this package writes and reads. It
	// fixes the HPKE suite and therefore the sizes of Enc and Ciphertext.
	EnvelopeVersion = 1
	// MaxIDLen bounds the sender's user ID and device ID (one-byte length
	// prefix; twice the identity module's 32-byte limit).
	MaxIDLen = 64
	// EncSize is the HPKE encapsulated key of MLKEM768-X25519: ML-KEM-768
	// ciphertext (1088) || X25519 ephemeral point (32).
	EncSize = 1120
	// SealedKeySize is the AES-256-GCM ciphertext of a meeting key: 32 bytes
	// plus a 16-byte tag.
	SealedKeySize = MeetingKeySize + 16
	// SignatureSize is an Ed25519 signature.
	SignatureSize = ed25519.SignatureSize

	// MinEnvelopeSize is an envelope with one-byte chain, user and device IDs.
	MinEnvelopeSize = 1 + (1 + 1) + MeetingIDSize + 8 + RosterHashSize + KeyHashSize +
		(1 + 1) + (1 + 1) + EncSize + SealedKeySize + SignatureSize
	// MaxEnvelopeSize is an envelope with the longest chain, user and device
	// IDs; Unmarshal refuses anything longer before reading it.
	MaxEnvelopeSize = MinEnvelopeSize + (MaxChainIDLen - 1) + 2*(MaxIDLen-1)
)

const labelEnvelopeSig = "parley/v1/mk-envelope"

// Envelope is the meeting key of one epoch sealed to one member's ephemeral
// key and signed by the leader's device key. ChainID, MeetingID, Epoch and
// RosterHash are the epoch's Context.
type Envelope struct {
	Version       uint8
	ChainID       string
	MeetingID     []byte // MeetingIDSize bytes
	Epoch         uint64
	RosterHash    []byte // RosterHashSize bytes
	RecipientHash []byte // EphemeralKeyHash of the recipient's public key
	SenderUser    string // the leader's user ID
	SenderDevice  string // the leader's device ID
	Enc           []byte // HPKE encapsulated key, EncSize bytes
	Ciphertext    []byte // HPKE ciphertext of MK_e, SealedKeySize bytes
	Signature     []byte // Ed25519 over "parley/v1/mk-envelope" || all preceding fields
}

// Marshal returns the envelope's wire encoding.
func (e *Envelope) Marshal() ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, e.encodedLen())
	b = e.appendSigned(b)
	return append(b, e.Signature...), nil
}

// Unmarshal decodes an envelope from untrusted bytes. It rejects input
// longer than MaxEnvelopeSize (ErrEnvelopeTooLarge), shorter than its fields
// (ErrTruncated), followed by extra bytes (ErrTrailingData), of another
// version (ErrUnsupportedVersion) or with a forbidden length
// (ErrMalformedEnvelope). Decoding is canonical: Marshal of the result gives
// back b. The envelope does not alias b. On error e is left unchanged.
func (e *Envelope) Unmarshal(b []byte) error {
	if len(b) > MaxEnvelopeSize {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrEnvelopeTooLarge, len(b), MaxEnvelopeSize)
	}
	r := newReader(b)
	var d Envelope
	d.Version = r.u8("version")
	if r.err == nil && d.Version != EnvelopeVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrUnsupportedVersion, d.Version, EnvelopeVersion)
	}
	d.ChainID = string(r.prefixed("chain_id", MaxChainIDLen))
	d.MeetingID = r.fixed("meeting_id", MeetingIDSize)
	d.Epoch = r.u64("epoch")
	d.RosterHash = r.fixed("roster_hash", RosterHashSize)
	d.RecipientHash = r.fixed("recipient_hash", KeyHashSize)
	d.SenderUser = string(r.prefixed("sender_user", MaxIDLen))
	d.SenderDevice = string(r.prefixed("sender_device", MaxIDLen))
	d.Enc = r.fixed("enc", EncSize)
	d.Ciphertext = r.fixed("ciphertext", SealedKeySize)
	d.Signature = r.fixed("signature", SignatureSize)
	if r.err != nil {
		return r.err
	}
	if !r.s.Empty() {
		return fmt.Errorf("%w: %d bytes after the signature at offset %d", ErrTrailingData, len(r.s), r.off())
	}
	*e = d
	return nil
}

// validate checks every field's length, so that Marshal, the signed bytes
// and the AAD are well defined for an envelope built by hand.
func (e *Envelope) validate() error {
	if e.Version != EnvelopeVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrUnsupportedVersion, e.Version, EnvelopeVersion)
	}
	if err := e.context().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedEnvelope, err)
	}
	for _, f := range []struct {
		name      string
		got, want int
	}{
		{"recipient_hash", len(e.RecipientHash), KeyHashSize},
		{"enc", len(e.Enc), EncSize},
		{"ciphertext", len(e.Ciphertext), SealedKeySize},
		{"signature", len(e.Signature), SignatureSize},
	} {
		if f.got != f.want {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformedEnvelope, f.name, f.got, f.want)
		}
	}
	if err := checkID("sender_user", e.SenderUser); err != nil {
		return err
	}
	return checkID("sender_device", e.SenderDevice)
}

func (e *Envelope) context() Context {
	return Context{ChainID: e.ChainID, MeetingID: e.MeetingID, Epoch: e.Epoch, RosterHash: e.RosterHash}
}

func checkID(field, id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%w: %s is %d bytes, want 1 to %d", ErrMalformedEnvelope, field, len(id), MaxIDLen)
	}
	return nil
}

func (e *Envelope) encodedLen() int {
	return MinEnvelopeSize + len(e.ChainID) - 1 + len(e.SenderUser) - 1 + len(e.SenderDevice) - 1
}

// appendHeader appends the signed header, which is also the HPKE AAD:
//
//	version || ctx || recipient_hash || u8 len || sender_user || u8 len || sender_device
func (e *Envelope) appendHeader(b []byte) []byte {
	b = append(b, e.Version)
	b = e.context().appendTo(b)
	b = append(b, e.RecipientHash...)
	b = append(b, byte(len(e.SenderUser)))
	b = append(b, e.SenderUser...)
	b = append(b, byte(len(e.SenderDevice)))
	return append(b, e.SenderDevice...)
}

// appendSigned appends header || enc || ciphertext: every field the
// signature covers, as encoded.
func (e *Envelope) appendSigned(b []byte) []byte {
	b = e.appendHeader(b)
	b = append(b, e.Enc...)
	return append(b, e.Ciphertext...)
}

// signedMessage is what the leader signs: "parley/v1/mk-envelope" ||
// header || enc || ciphertext.
func (e *Envelope) signedMessage() []byte {
	b := make([]byte, 0, len(labelEnvelopeSig)+e.encodedLen()-SignatureSize)
	b = append(b, labelEnvelopeSig...)
	return e.appendSigned(b)
}

// reader reads fields in order from a cryptobyte.String; the first
// failure sticks and later reads return zero values, so Unmarshal checks
// once at the end. Errors name the field and its offset in the input.
type reader struct {
	s   cryptobyte.String
	n   int // length of the whole input
	err error
}

func newReader(b []byte) *reader { return &reader{s: cryptobyte.String(b), n: len(b)} }

// off is the offset of the next unread byte.
func (r *reader) off() int { return r.n - len(r.s) }

func (r *reader) truncated(field string, n int) {
	r.err = fmt.Errorf("%w: %s needs %d bytes at offset %d, %d left", ErrTruncated, field, n, r.off(), len(r.s))
}

func (r *reader) u8(field string) byte {
	var v uint8
	if r.err == nil && !r.s.ReadUint8(&v) {
		r.truncated(field, 1)
	}
	return v
}

func (r *reader) u64(field string) uint64 {
	var v uint64
	if r.err == nil && !r.s.ReadUint64(&v) {
		r.truncated(field, 8)
	}
	return v
}

// fixed returns a copy, so the envelope never aliases the input.
func (r *reader) fixed(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	var v []byte
	if !r.s.ReadBytes(&v, n) {
		r.truncated(field, n)
		return nil
	}
	return bytes.Clone(v)
}

// prefixed reads u8(len) || bytes with 1 <= len <= limit.
func (r *reader) prefixed(field string, limit int) []byte {
	at := r.off()
	n := int(r.u8(field + " length"))
	if r.err != nil {
		return nil
	}
	if n == 0 || n > limit {
		r.err = fmt.Errorf("%w: %s length %d at offset %d, want 1 to %d", ErrMalformedEnvelope, field, n, at, limit)
		return nil
	}
	return r.fixed(field, n)
}
