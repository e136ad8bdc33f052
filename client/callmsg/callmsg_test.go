package callmsg_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parleynet/parley/client/callmsg"
)

func TestRoundTrip(t *testing.T) {
	for _, m := range []callmsg.Message{
		callmsg.Chat("hello, bob"), callmsg.Chat("line one\nline two ✓"), callmsg.Hand(true), callmsg.Hand(false),
		callmsg.React(callmsg.ThumbsUp), callmsg.React(callmsg.Surprise), callmsg.Name("Alice Ó"),
		callmsg.Mute("bob/phone"), callmsg.Recording(true), callmsg.Recording(false),
	} {
		b, err := callmsg.Encode(m)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		got, err := callmsg.Decode(b)
		if err != nil || got != m {
			t.Fatalf("%+v: decoded %+v, %v", m, got, err)
		}
	}
}

func TestLayout(t *testing.T) {
	b, err := callmsg.Encode(callmsg.React(callmsg.Heart))
	if err != nil || !bytes.Equal(b, []byte{1, 3, 3}) {
		t.Fatalf("reaction heart: %x, %v", b, err)
	}
	b, err = callmsg.Encode(callmsg.Chat("hi"))
	if err != nil || !bytes.Equal(b, []byte{1, 1, 'h', 'i'}) {
		t.Fatalf("chat hi: %x, %v", b, err)
	}
}

// TestRefusals: what a member could send to confuse the others.
func TestRefusals(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":             nil,
		"header only":       {1, 1},
		"other version":     {2, 1, 'h'},
		"unknown type":      {1, 9, 'x'},
		"long chat":         append([]byte{1, 1}, strings.Repeat("a", callmsg.MaxChatLen+1)...),
		"not UTF-8":         {1, 1, 0xff, 0xfe},
		"hand of two bytes": {1, 2, 1, 1},
		"hand of 2":         {1, 2, 2},
		"unknown reaction":  {1, 3, 9},
		"name with newline": append([]byte{1, 4}, "alice\nbob/phone"...),
		"name with RLO":     append([]byte{1, 4}, "eve\u202e"...),
		"name too long":     append([]byte{1, 4}, strings.Repeat("n", callmsg.MaxNameLen+1)...),
		"name padded":       append([]byte{1, 4}, " alice"...),
		"mute of no device": append([]byte{1, 5}, "bob"...),
		"mute of two":       append([]byte{1, 5}, "bob/phone alice/laptop"...),
		"recording of 2":    {1, 6, 2},
	} {
		if _, err := callmsg.Decode(b); !errors.Is(err, callmsg.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := callmsg.Encode(callmsg.Chat("")); !errors.Is(err, callmsg.ErrMalformed) {
		t.Errorf("empty chat encoded: %v", err)
	}
	if _, err := callmsg.ParseReaction("thumbs-down"); !errors.Is(err, callmsg.ErrMalformed) {
		t.Errorf("unknown reaction parsed: %v", err)
	}
}
