package ics

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one calendar event.
type Event struct {
	UID         string // globally unique, stable for the meeting
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Description string
	URL         string
}

// maxLine is RFC 5545's line length limit in octets, CRLF excluded.
const maxLine = 75

// Marshal returns the VCALENDAR text.
func (e Event) Marshal() []byte {
	var b strings.Builder
	line := func(name, value string) { b.WriteString(Fold(name + ":" + value)) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Parley//parley meeting invite//EN")
	line("CALSCALE", "GREGORIAN")
	line("BEGIN", "VEVENT")
	line("UID", EscapeText(e.UID))
	line("DTSTAMP", utc(e.Stamp))
	line("DTSTART", utc(e.Start))
	if !e.End.IsZero() {
		line("DTEND", utc(e.End))
	}
	line("SUMMARY", EscapeText(e.Summary))
	if e.Description != "" {
		line("DESCRIPTION", EscapeText(e.Description))
	}
	if e.URL != "" {
		// URL is of type URI: not TEXT, so not escaped.
		line("URL", e.URL)
	}
	line("END", "VEVENT")
	line("END", "VCALENDAR")
	return []byte(b.String())
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// EscapeText escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon,
// comma, and newlines (CRLF, CR or LF become `\n`).
func EscapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// Fold returns a content line with its CRLF, folded (RFC 5545 3.1): no
// line longer than 75 octets; each continuation starts with one space,
// which counts toward its 75. A UTF-8 sequence is never split.
func Fold(line string) string {
	var b strings.Builder
	limit := maxLine
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLine - 1
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}
