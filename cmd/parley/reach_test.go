package main

import "testing"

func TestParseICEServer(t *testing.T) {
	for _, tc := range []struct {
		in, url, user, pass string
		bad                 bool
	}{
		{in: "stun:203.0.113.1:3478", url: "stun:203.0.113.1:3478"},
		{in: "turn:me:s3cr:t@relay.example:3478?transport=udp", url: "turn:relay.example:3478?transport=udp", user: "me", pass: "s3cr:t"},
		{in: "turns:1700000000:abc:pw==@relay.example:5349?transport=tcp", url: "turns:relay.example:5349?transport=tcp", user: "1700000000", pass: "abc:pw=="},
		{in: "turn:relay.example:3478", bad: true},        // no credentials
		{in: "stun:me:pw@203.0.113.1:3478", bad: true},    // STUN takes none
		{in: "turn::pw@relay.example:3478", bad: true},    // empty user
		{in: "http://relay.example", bad: true},           // not STUN or TURN
		{in: "relay.example", bad: true},                  // no scheme
		{in: "turn:me:pw@relay.example:99999", bad: true}, // bad port
		{in: "turn:me:pw@relay.example:3478?transport=sctp", bad: true},
	} {
		s, err := parseICEServer(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q accepted as %+v", tc.in, s)
			}
			continue
		}
		if err != nil || len(s.URLs) != 1 || s.URLs[0] != tc.url || s.Username != tc.user || s.Credential != tc.pass {
			t.Errorf("%q: %+v, %v", tc.in, s, err)
		}
	}
}
