package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/identity/types"
)

func TestParseDeviceRef(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want types.DeviceRef
		err  error
	}{
		{name: "user and device", in: "alice/laptop", want: types.DeviceRef{User: "alice", Device: "laptop"}},
		{name: "all the ID alphabet", in: "a.b-c_d/0.x-y_z", want: types.DeviceRef{User: "a.b-c_d", Device: "0.x-y_z"}},
		{name: "one-character device", in: "bob/x", want: types.DeviceRef{User: "bob", Device: "x"}},
		{name: "longest IDs", in: strings.Repeat("a", 32) + "/" + strings.Repeat("b", 32), want: types.DeviceRef{User: strings.Repeat("a", 32), Device: strings.Repeat("b", 32)}},
		{name: "empty", in: "", err: types.ErrInvalidDeviceID},
		{name: "no slash", in: "alicelaptop", err: types.ErrInvalidDeviceID},
		{name: "empty user", in: "/laptop", err: types.ErrInvalidUserID},
		{name: "short user", in: "al/laptop", err: types.ErrInvalidUserID},
		{name: "user starts with a dot", in: ".alice/laptop", err: types.ErrInvalidUserID},
		{name: "upper case user", in: "Alice/laptop", err: types.ErrInvalidUserID},
		{name: "empty device", in: "alice/", err: types.ErrInvalidDeviceID},
		{name: "second slash", in: "alice/laptop/x", err: types.ErrInvalidDeviceID},
		{name: "device too long", in: "alice/" + strings.Repeat("b", 33), err: types.ErrInvalidDeviceID},
		{name: "space", in: "alice/lap top", err: types.ErrInvalidDeviceID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := types.ParseDeviceRef(c.in)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Equal(t, c.in, got.String())
			require.NoError(t, types.ValidateDeviceRef(got))
		})
	}
}

func FuzzParseDeviceRef(f *testing.F) {
	for _, s := range []string{"alice/laptop", "", "/", "alice/", "/laptop", "a/b/c", "alice//laptop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := types.ParseDeviceRef(s)
		if err != nil {
			return
		}
		// What parses is valid and prints back to the same text.
		if types.ValidateDeviceRef(r) != nil || r.String() != s {
			t.Fatalf("ParseDeviceRef(%q) = %+v, which prints as %q", s, r, r.String())
		}
	})
}
