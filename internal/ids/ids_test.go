package ids_test

import (
	"strings"
	"testing"

	"github.com/parleynet/parley/internal/ids"
)

func TestValid(t *testing.T) {
	cases := []struct {
		name         string
		id           string
		user, device bool
	}{
		{"short name", "bob", true, true},
		{"dots dashes underscores", "a.b-c_d", true, true},
		{"two characters", "ab", false, true},
		{"one character", "x", false, true},
		{"empty", "", false, false},
		{"leading dot", ".ab", false, true},
		{"upper case", "Bob", false, false},
		{"slash", "bob/laptop", false, false},
		{"32 characters", strings.Repeat("a", 32), true, true},
		{"33 characters", strings.Repeat("a", 33), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids.ValidUser(c.id); got != c.user {
				t.Errorf("ValidUser(%q) = %v, want %v", c.id, got, c.user)
			}
			if got := ids.ValidDevice(c.id); got != c.device {
				t.Errorf("ValidDevice(%q) = %v, want %v", c.id, got, c.device)
			}
		})
	}
}
