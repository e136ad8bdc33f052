package meeting_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

var testMeetingID = bytes.Repeat([]byte{0xab}, meetingtypes.MeetingIDSize)

func testFields() meetingtypes.InviteFields {
	return meetingtypes.InviteFields{
		ChainID: "parley-1", MeetingID: testMeetingID, LeaderUser: "alice", LeaderDevice: "laptop",
		PasscodeRequired: true, StartsAt: 1796493600, DurationSeconds: 2700,
		AnchorHeight: 42, AnchorHash: bytes.Repeat([]byte{0x11}, 32),
	}
}

func TestParseInviteForms(t *testing.T) {
	signed := &meeting.SignedInvite{InviteFields: testFields(), Sig: bytes.Repeat([]byte{7}, 64)}
	link := signed.Invite().Link()
	require.True(t, strings.HasPrefix(link, "http://127.0.0.1:8765/join#"), link)

	for _, tc := range []struct{ name, in string }{
		{"signed link", link},
		{"signed link on another port", strings.Replace(link, "127.0.0.1:8765", "localhost:9000", 1)},
		{"bare fragment", link[strings.Index(link, "#"):]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := meeting.ParseInvite(tc.in)
			require.NoError(t, err)
			require.Equal(t, signed, inv.Signed)
			require.Equal(t, "parley-1", inv.ChainID)
			require.Equal(t, testMeetingID, inv.MeetingID)
			require.Equal(t, "42:"+strings.Repeat("11", 32), inv.Trust)
			require.Equal(t, link, inv.Link())
		})
	}

	// The older forms still read, unsigned.
	legacy := meeting.Invite{ChainID: "parley-1", MeetingID: testMeetingID, Trust: "42:" + strings.Repeat("11", 32)}
	inv, err := meeting.ParseInvite(legacy.Link())
	require.NoError(t, err)
	require.Equal(t, legacy, inv)
	inv, err = meeting.ParseInvite(strings.Repeat("ab", 16))
	require.NoError(t, err)
	require.Equal(t, meeting.Invite{MeetingID: testMeetingID}, inv)

	for _, bad := range []string{
		"http://127.0.0.1:8765/join#AAAA",
		"http://127.0.0.1:8765/join#not base64!",
		link + "AA",
		link[:len(link)-4],
	} {
		_, err := meeting.ParseInvite(bad)
		require.ErrorIs(t, err, meeting.ErrInviteMalformed, bad)
	}
	_, err = meeting.ParseInvite("http://example.com/other#x")
	require.Error(t, err)
}

// The payload is the version byte, the sign bytes without their domain,
// then the signature: one layout, documented in docs/PROTOCOL.md.
func TestInvitePayloadLayout(t *testing.T) {
	f := testFields()
	sig := bytes.Repeat([]byte{7}, 64)
	link := (&meeting.SignedInvite{InviteFields: f, Sig: sig}).Invite().Link()
	inv, err := meeting.ParseInvite(link)
	require.NoError(t, err)
	sb := meetingtypes.InviteSignBytes(f)
	domain := 2 + len(meetingtypes.DomainInvite)
	want := append(append([]byte{meeting.InviteVersion}, sb[domain:]...), 0, 64)
	want = append(want, sig...)
	require.Equal(t, want, payloadBytes(t, link))
	require.Equal(t, f, inv.Signed.InviteFields)
}

func FuzzParseInvite(f *testing.F) {
	f.Add((&meeting.SignedInvite{InviteFields: testFields(), Sig: make([]byte, 64)}).Payload())
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, payload string) {
		inv, err := meeting.ParseInvite("http://127.0.0.1:8765/join#" + payload)
		if err != nil {
			return
		}
		// What parses re-encodes to itself.
		again, err := meeting.ParseInvite(inv.Link())
		require.NoError(t, err)
		require.Equal(t, inv, again)
	})
}

// payloadBytes decodes a signed link's fragment.
func payloadBytes(t *testing.T, link string) []byte {
	t.Helper()
	_, frag, _ := strings.Cut(link, "#")
	b, err := base64.RawURLEncoding.DecodeString(frag)
	require.NoError(t, err)
	return b
}
