package main

import (
	"strings"
	"testing"
	"time"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 500, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"+10m":                 time.Date(2026, 11, 20, 10, 10, 0, 0, time.UTC),
		"+1h30m":               time.Date(2026, 11, 20, 11, 30, 0, 0, time.UTC),
		"2026-12-05T18:00:00Z": time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC),
	} {
		got, err := parseStart(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseStart(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"+0s":                  "positive duration",
		"+soon":                "positive duration",
		"tomorrow":             "RFC 3339",
		"2026-11-20T09:00:00Z": "not in the future",
	} {
		if _, err := parseStart(in, now); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseStart(%q): %v, want an error with %q", in, err, want)
		}
	}
}

func TestScheduleLine(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := meetingtypes.Meeting{StartsAt: now.Unix() + 600, ExpiresAt: now.Unix() + 600 + 2700}
	got := scheduleLine(m, now)
	for _, want := range []string{"scheduled 2027-01-15T08:10:00Z", "45m0s", "starts in 10m0s", "lobby"} {
		if !strings.Contains(got, want) {
			t.Errorf("scheduleLine = %q, want it to contain %q", got, want)
		}
	}
	if got := scheduleLine(meetingtypes.Meeting{ExpiresAt: now.Unix()}, now); !strings.HasPrefix(got, "unscheduled") {
		t.Errorf("unscheduled: %q", got)
	}
}
