package call

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/parleynet/parley/client/keyschedule"
)

// Kind is what a signal carries.
type Kind uint8

// Signal kinds.
const (
	KindOffer     Kind = 1 // SDP offer of a new session
	KindAnswer    Kind = 2 // SDP answer to the session's offer
	KindCandidate Kind = 3 // one trickled ICE candidate of the session
	KindBye       Kind = 4 // the sender closed the session
	KindRestart   Kind = 5 // the answerer asks the offerer to restart ICE on the session
	KindKeys      Kind = 6 // the sender holds the keys of the epoch it names (Signal.Epoch)
	KindMessage   Kind = 7 // an application message to the members (message.go)
)

// String returns "offer", "answer", "candidate", "bye" or the number.
func (k Kind) String() string {
	switch k {
	case KindOffer:
		return "offer"
	case KindAnswer:
		return "answer"
	case KindCandidate:
		return "candidate"
	case KindBye:
		return "bye"
	case KindRestart:
		return "restart"
	case KindKeys:
		return "keys"
	case KindMessage:
		return "message"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Sizes and bounds of the signal encoding (see the package doc).
const (
	SignalVersion     = 1
	SessionIDSize     = 16
	MeetingIDSize     = keyschedule.MeetingIDSize
	MaxFingerprintLen = 255
	MaxPayloadLen     = 64 << 10
	minSignalSize     = 2 + 4 + MeetingIDSize + 8 + SessionIDSize + 8 + 1 + 4 // 59
	MaxSignalSize     = minSignalSize + 4*MaxIDLen + MaxFingerprintLen + MaxPayloadLen
)

// SessionID names one peer connection between two devices; the offerer
// draws it at random and both sides sign it into every signal of the
// connection.
type SessionID [SessionIDSize]byte

// String returns the ID in hex.
func (s SessionID) String() string { return hex.EncodeToString(s[:]) }

// Signal is one signalling message between two devices of a meeting. It is
// encoded by Marshal, signed by the sender's device key and sealed to the
// recipient's ephemeral key (SealSignal).
type Signal struct {
	Kind       Kind
	FromUser   string
	FromDevice string
	ToUser     string
	ToDevice   string
	MeetingID  []byte // MeetingIDSize bytes
	Epoch      uint64 // the sender's current epoch
	Session    SessionID
	Seq        uint64 // per sender and session; each value is accepted once
	// SDP of an offer or answer; empty otherwise.
	SDP string
	// Candidate is the a=candidate value ("candidate:...") of a candidate
	// signal; empty otherwise.
	Candidate string
	// Message is the body of a message signal (1 to MaxMessageLen bytes);
	// empty otherwise.
	Message string
	// DTLSFingerprint is the sender's certificate fingerprint as in SDP,
	// "sha-256 AB:CD:...": required in offers, answers and candidates.
	DTLSFingerprint string
}

func (s *Signal) payload() string {
	switch s.Kind {
	case KindCandidate:
		return s.Candidate
	case KindMessage:
		return s.Message
	}
	return s.SDP
}

// validate checks what Marshal and Unmarshal both require.
func (s *Signal) validate() error {
	switch s.Kind {
	case KindOffer, KindAnswer, KindCandidate, KindBye, KindRestart, KindKeys, KindMessage:
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrMalformedSignal, s.Kind)
	}
	for _, f := range []struct{ name, v string }{
		{"from_user", s.FromUser}, {"from_device", s.FromDevice},
		{"to_user", s.ToUser}, {"to_device", s.ToDevice},
	} {
		if len(f.v) == 0 || len(f.v) > MaxIDLen {
			return fmt.Errorf("%w: %s is %d bytes, want 1 to %d", ErrMalformedSignal, f.name, len(f.v), MaxIDLen)
		}
	}
	if len(s.MeetingID) != MeetingIDSize {
		return fmt.Errorf("%w: meeting_id is %d bytes, want %d", ErrMalformedSignal, len(s.MeetingID), MeetingIDSize)
	}
	if len(s.DTLSFingerprint) > MaxFingerprintLen {
		return fmt.Errorf("%w: fingerprint is %d bytes, at most %d", ErrMalformedSignal, len(s.DTLSFingerprint), MaxFingerprintLen)
	}
	p := s.payload()
	if len(p) > MaxPayloadLen {
		return fmt.Errorf("%w: %v payload is %d bytes, at most %d", ErrMalformedSignal, s.Kind, len(p), MaxPayloadLen)
	}
	if s.Kind != KindMessage && s.Message != "" {
		return fmt.Errorf("%w: %v carries a message body", ErrMalformedSignal, s.Kind)
	}
	switch s.Kind {
	case KindOffer, KindAnswer:
		if s.Candidate != "" {
			return fmt.Errorf("%w: %v carries a candidate", ErrMalformedSignal, s.Kind)
		}
		if p == "" || s.DTLSFingerprint == "" {
			return fmt.Errorf("%w: %v needs SDP and fingerprint", ErrMalformedSignal, s.Kind)
		}
	case KindCandidate:
		if s.SDP != "" {
			return fmt.Errorf("%w: candidate carries SDP", ErrMalformedSignal)
		}
		if p == "" || s.DTLSFingerprint == "" {
			return fmt.Errorf("%w: candidate needs a candidate line and fingerprint", ErrMalformedSignal)
		}
	case KindBye:
		if s.SDP != "" || s.Candidate != "" {
			return fmt.Errorf("%w: bye carries a payload", ErrMalformedSignal)
		}
	case KindKeys:
		if s.SDP != "" || s.Candidate != "" || s.Message != "" {
			return fmt.Errorf("%w: keys carries a payload", ErrMalformedSignal)
		}
	case KindMessage:
		if s.SDP != "" || s.Candidate != "" {
			return fmt.Errorf("%w: message carries SDP or a candidate", ErrMalformedSignal)
		}
		if len(s.Message) == 0 || len(s.Message) > MaxMessageLen {
			return fmt.Errorf("%w: message body is %d bytes, want 1 to %d", ErrMalformedSignal, len(s.Message), MaxMessageLen)
		}
	case KindRestart:
		if s.SDP != "" || s.Candidate != "" {
			return fmt.Errorf("%w: restart carries a payload", ErrMalformedSignal)
		}
		if s.DTLSFingerprint == "" {
			return fmt.Errorf("%w: restart needs a fingerprint", ErrMalformedSignal)
		}
	}
	return nil
}

// Marshal returns the canonical encoding of s (see the package doc).
func (s *Signal) Marshal() ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	p := s.payload()
	b := make([]byte, 0, minSignalSize+len(s.FromUser)+len(s.FromDevice)+len(s.ToUser)+len(s.ToDevice)+len(s.DTLSFingerprint)+len(p))
	b = append(b, SignalVersion, byte(s.Kind))
	for _, v := range []string{s.FromUser, s.FromDevice, s.ToUser, s.ToDevice} {
		b = append(b, byte(len(v)))
		b = append(b, v...)
	}
	b = append(b, s.MeetingID...)
	b = binary.BigEndian.AppendUint64(b, s.Epoch)
	b = append(b, s.Session[:]...)
	b = binary.BigEndian.AppendUint64(b, s.Seq)
	b = append(b, byte(len(s.DTLSFingerprint)))
	b = append(b, s.DTLSFingerprint...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p))) //nolint:gosec // len(p) <= MaxPayloadLen
	return append(b, p...), nil
}

// UnmarshalSignal decodes a signal. It accepts exactly the encodings
// Marshal produces: input over MaxSignalSize, a field running past the end,
// bytes after the payload, another version, an unknown kind, an empty or
// over-long ID and a payload or fingerprint the kind forbids or lacks are
// all ErrMalformedSignal.
func UnmarshalSignal(b []byte) (*Signal, error) {
	if len(b) > MaxSignalSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformedSignal, len(b), MaxSignalSize)
	}
	r := reader{s: cryptobyte.String(b)}
	if v := r.u8("version"); r.err == nil && v != SignalVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrMalformedSignal, v, SignalVersion)
	}
	s := &Signal{Kind: Kind(r.u8("kind"))}
	s.FromUser = r.str8("from_user")
	s.FromDevice = r.str8("from_device")
	s.ToUser = r.str8("to_user")
	s.ToDevice = r.str8("to_device")
	s.MeetingID = append([]byte(nil), r.bytes("meeting_id", MeetingIDSize)...)
	s.Epoch = r.u64("epoch")
	copy(s.Session[:], r.bytes("session", SessionIDSize))
	s.Seq = r.u64("seq")
	s.DTLSFingerprint = r.str8("fingerprint")
	n := r.u32("payload length")
	if r.err == nil && n > MaxPayloadLen {
		return nil, fmt.Errorf("%w: payload is %d bytes, at most %d", ErrMalformedSignal, n, MaxPayloadLen)
	}
	p := string(r.bytes("payload", int(n)))
	if r.err != nil {
		return nil, r.err
	}
	if !r.s.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the payload", ErrMalformedSignal, len(r.s))
	}
	switch s.Kind {
	case KindCandidate:
		s.Candidate = p
	case KindMessage:
		s.Message = p
	default:
		s.SDP = p
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// reader reads big-endian fields from a cryptobyte.String; the first
// failure sticks and later reads return zero values, so UnmarshalSignal
// checks once at the end.
type reader struct {
	s   cryptobyte.String
	err error
}

func (r *reader) truncated(field string, n int) {
	r.err = fmt.Errorf("%w: truncated in %s (%d bytes left, want %d)", ErrMalformedSignal, field, len(r.s), n)
}

func (r *reader) bytes(field string, n int) []byte {
	var v []byte
	if r.err == nil && !r.s.ReadBytes(&v, n) {
		r.truncated(field, n)
	}
	return v
}

func (r *reader) u8(field string) byte {
	var v uint8
	if r.err == nil && !r.s.ReadUint8(&v) {
		r.truncated(field, 1)
	}
	return v
}

func (r *reader) u32(field string) uint32 {
	var v uint32
	if r.err == nil && !r.s.ReadUint32(&v) {
		r.truncated(field, 4)
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

func (r *reader) str8(field string) string {
	return string(r.bytes(field, int(r.u8(field+" length"))))
}
