package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseGrant(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	g, err := parseGrant("5000uparley", "48h", "identity, meeting", now)
	if err != nil {
		t.Fatal(err)
	}
	if g.SpendLimit.String() != "5000uparley" || !g.Expires.Equal(now.Add(48*time.Hour)) || len(g.Modules) != 2 {
		t.Fatalf("grant %+v", g)
	}
	g, err = parseGrant("", "2027-01-02T03:04:05Z", "identity", now)
	if err != nil || g.Expires.Format(time.RFC3339) != "2027-01-02T03:04:05Z" || g.SpendLimit != nil {
		t.Fatalf("an RFC 3339 expiry: %+v %v", g, err)
	}
	for _, c := range []struct{ spend, expires, want string }{
		{"lots", "", "--spend-limit"},
		{"", "next week", "--expires"},
	} {
		if _, err := parseGrant(c.spend, c.expires, "", now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
