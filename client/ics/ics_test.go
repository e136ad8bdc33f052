package ics_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/ics"
)

// unfold undoes folding as RFC 5545 3.1 says a reader must: remove every
// CRLF followed by one space or tab.
func unfold(s string) string {
	s = strings.ReplaceAll(s, "\r\n ", "")
	return strings.ReplaceAll(s, "\r\n\t", "")
}

func TestFold(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"short", "SUMMARY:hello"},
		{"exactly 75", "DESCRIPTION:" + strings.Repeat("a", 75-len("DESCRIPTION:"))},
		{"76", "DESCRIPTION:" + strings.Repeat("a", 76-len("DESCRIPTION:"))},
		{"long ascii", "URL:http://127.0.0.1:8765/join#" + strings.Repeat("AbC-_9", 60)},
		{"multi-octet at the boundary", "SUMMARY:" + strings.Repeat("a", 66) + strings.Repeat("é€😀", 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := ics.Fold(tc.in)
			require.True(t, strings.HasSuffix(out, "\r\n"))
			lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			for i, l := range lines {
				require.LessOrEqualf(t, len(l), 75, "line %d is %d octets", i, len(l))
				require.Truef(t, utf8.ValidString(l), "line %d splits a UTF-8 sequence", i)
				if i > 0 {
					require.Equal(t, byte(' '), l[0], "a continuation starts with one space")
				}
			}
			if len(tc.in) <= 75 {
				require.Len(t, lines, 1)
			}
			require.Equal(t, tc.in+"\r\n", unfold(out))
		})
	}
}

func TestEscapeText(t *testing.T) {
	require.Equal(t, `a\\b\;c\,d\ne\nf\ng`, ics.EscapeText("a\\b;c,d\ne\r\nf\rg"))
	require.Equal(t, "plain: colon stays", ics.EscapeText("plain: colon stays"))
}

func TestMarshal(t *testing.T) {
	start := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	link := "http://127.0.0.1:8765/join#" + strings.Repeat("x", 200)
	out := string(ics.Event{
		UID: "abcd@parley-1", Stamp: start.Add(-time.Hour), Start: start, End: start.Add(45 * time.Minute),
		Summary: "Parley meeting; team, weekly", Description: "Join: " + link + "\nPasscode: ask the host", URL: link,
	}.Marshal())
	require.NotContains(t, strings.ReplaceAll(out, "\r\n", ""), "\n", "every line ends in CRLF")
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		require.LessOrEqual(t, len(l), 75)
	}
	u := unfold(out)
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "BEGIN:VEVENT\r\n", "UID:abcd@parley-1\r\n",
		"DTSTAMP:20261205T170000Z\r\n", "DTSTART:20261205T180000Z\r\n", "DTEND:20261205T184500Z\r\n",
		`SUMMARY:Parley meeting\; team\, weekly` + "\r\n",
		"DESCRIPTION:Join: " + link + `\nPasscode: ask the host` + "\r\n",
		"URL:" + link + "\r\n", "END:VEVENT\r\nEND:VCALENDAR\r\n",
	} {
		require.Contains(t, u, want)
	}
}
