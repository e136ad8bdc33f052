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

func TestDeviceRef(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"alice/laptop", true},
		{"a.b-c_d/0.x-y_z", true},
		{"", false},
		{"alicelaptop", false},
		{"/laptop", false},
		{"al/laptop", false},
		{"alice/", false},
		{"alice/laptop/x", false},
		{"Alice/laptop", false},
	}
	for _, c := range cases {
		r, ok := ids.ParseDeviceRef(c.in)
		if ok != c.ok {
			t.Errorf("ParseDeviceRef(%q) ok = %v, want %v", c.in, ok, c.ok)
			continue
		}
		if ok && (r.String() != c.in || !r.Valid()) {
			t.Errorf("ParseDeviceRef(%q) = %+v, which prints as %q", c.in, r, r.String())
		}
		if !ok && r != (ids.DeviceRef{}) {
			t.Errorf("ParseDeviceRef(%q) = %+v on failure, want the zero value", c.in, r)
		}
	}
}
