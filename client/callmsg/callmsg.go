package callmsg

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is what a message says.
type Type uint8

// Message types.
const (
	TypeChat     Type = 1
	TypeHand     Type = 2
	TypeReaction Type = 3
	TypeName     Type = 4
	TypeMute     Type = 5 // the leader asks a member to mute
	TypeRecord   Type = 6 // the sender starts or stops recording
)

// Reaction is one of the fixed reactions.
type Reaction uint8

// Reactions.
const (
	ThumbsUp Reaction = 1 + iota
	Clap
	Heart
	Laugh
	Surprise
)

var reactionNames = map[Reaction]string{ThumbsUp: "thumbs-up", Clap: "clap", Heart: "heart", Laugh: "laugh", Surprise: "surprise"}

// String returns the reaction's name ("thumbs-up", ...), as the page uses.
func (r Reaction) String() string {
	if n, ok := reactionNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Reaction(%d)", uint8(r))
}

// ParseReaction returns the reaction named s.
func ParseReaction(s string) (Reaction, error) {
	for r, n := range reactionNames {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: no reaction %q", ErrMalformed, s)
}

// Bounds.
const (
	Version     = 1
	MaxChatLen  = 2000
	MaxNameLen  = 64
	MaxBody     = 2 + MaxChatLen
	headerBytes = 2
)

// ErrMalformed is a body Encode would not produce, or a message Encode
// refuses.
var ErrMalformed = errors.New("callmsg: malformed message")

// Message is one decoded message: Type and the field of that type.
type Message struct {
	Type     Type
	Text     string   // TypeChat, TypeName; TypeMute: the member asked, "user/device"
	Raised   bool     // TypeHand; TypeRecord: recording
	Reaction Reaction // TypeReaction
}

// Chat, Hand, React and Name build messages.
func Chat(text string) Message { return Message{Type: TypeChat, Text: text} }
func Hand(raised bool) Message { return Message{Type: TypeHand, Raised: raised} }
func React(r Reaction) Message { return Message{Type: TypeReaction, Reaction: r} }
func Name(name string) Message { return Message{Type: TypeName, Text: name} }

// Mute asks the member user/device to mute; only the leader's is honoured.
func Mute(member string) Message { return Message{Type: TypeMute, Text: member} }

// Recording says the sender records the call (or stopped).
func Recording(on bool) Message { return Message{Type: TypeRecord, Raised: on} }

// Encode returns the message's one encoding.
func Encode(m Message) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := []byte{Version, byte(m.Type)}
	switch m.Type {
	case TypeChat, TypeName, TypeMute:
		b = append(b, m.Text...)
	case TypeHand, TypeRecord:
		if m.Raised {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case TypeReaction:
		b = append(b, byte(m.Reaction))
	}
	return b, nil
}

// Decode reads a body.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxBody {
		return Message{}, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxBody)
	}
	if len(b) < headerBytes+1 {
		return Message{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[0] != Version {
		return Message{}, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	m := Message{Type: Type(b[1])}
	p := b[headerBytes:]
	switch m.Type {
	case TypeChat, TypeName, TypeMute:
		m.Text = string(p)
	case TypeHand, TypeRecord:
		if len(p) != 1 || p[0] > 1 {
			return Message{}, fmt.Errorf("%w: on/off field %x", ErrMalformed, p)
		}
		m.Raised = p[0] == 1
	case TypeReaction:
		if len(p) != 1 {
			return Message{}, fmt.Errorf("%w: reaction field %x", ErrMalformed, p)
		}
		m.Reaction = Reaction(p[0])
	default:
		return Message{}, fmt.Errorf("%w: type %d", ErrMalformed, b[1])
	}
	if err := m.validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func (m Message) validate() error {
	switch m.Type {
	case TypeChat:
		if len(m.Text) == 0 || len(m.Text) > MaxChatLen || !utf8.ValidString(m.Text) {
			return fmt.Errorf("%w: a chat line is UTF-8 of 1 to %d bytes", ErrMalformed, MaxChatLen)
		}
	case TypeName:
		if len(m.Text) == 0 || len(m.Text) > MaxNameLen || !utf8.ValidString(m.Text) ||
			strings.IndexFunc(m.Text, hidden) >= 0 || strings.TrimSpace(m.Text) != m.Text {
			return fmt.Errorf("%w: a name is UTF-8 of 1 to %d bytes, no control or format characters, no spaces around it", ErrMalformed, MaxNameLen)
		}
	case TypeMute:
		user, device, ok := strings.Cut(m.Text, "/")
		if !ok || len(user) == 0 || len(user) > MaxNameLen || len(device) == 0 || len(device) > MaxNameLen ||
			!utf8.ValidString(m.Text) || strings.IndexFunc(m.Text, hidden) >= 0 || strings.ContainsAny(m.Text, " ") {
			return fmt.Errorf("%w: a mute request names one member, user/device", ErrMalformed)
		}
	case TypeHand, TypeRecord:
	case TypeReaction:
		if _, ok := reactionNames[m.Reaction]; !ok {
			return fmt.Errorf("%w: reaction %d", ErrMalformed, m.Reaction)
		}
	default:
		return fmt.Errorf("%w: type %d", ErrMalformed, m.Type)
	}
	return nil
}

// hidden reports control and format characters (bidirectional overrides,
// zero-width joiners): a name with them could read as another's.
func hidden(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
