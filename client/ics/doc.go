// Package ics writes one meeting as an RFC 5545 calendar file (a
// VCALENDAR holding one VEVENT), so an invite can go into a calendar.
//
// It writes what RFC 5545 requires of every line: CRLF endings, lines
// folded at 75 octets (a CRLF and one space, never inside a UTF-8
// sequence), and TEXT values with `\`, `;`, `,` and newlines escaped.
// Times are UTC ("Z" form).
//
// Must never: put anything in the file the caller did not pass (no
// passcode, no key: the file is shared like the link it carries).
package ics
