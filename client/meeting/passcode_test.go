package meeting_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
)

func TestPasscodeProof(t *testing.T) {
	leader, err := keyschedule.GenerateEphemeralKey()
	require.NoError(t, err)
	other, err := keyschedule.GenerateEphemeralKey()
	require.NoError(t, err)
	id := make([]byte, 16)
	pub := leader.PublicKey().Bytes()
	sealed, err := meeting.SealPasscode("c", id, "bob", "phone", "open sesame", pub)
	require.NoError(t, err)
	require.NoError(t, meeting.CheckPasscode("c", id, "bob", "phone", "open sesame", leader, sealed))
	for name, check := range map[string]func() error{
		"wrong passcode": func() error { return meeting.CheckPasscode("c", id, "bob", "phone", "guess", leader, sealed) },
		"other device":   func() error { return meeting.CheckPasscode("c", id, "bob", "laptop", "open sesame", leader, sealed) },
		"other chain":    func() error { return meeting.CheckPasscode("d", id, "bob", "phone", "open sesame", leader, sealed) },
		"not the leader": func() error { return meeting.CheckPasscode("c", id, "bob", "phone", "open sesame", other, sealed) },
		"empty":          func() error { return meeting.CheckPasscode("c", id, "bob", "phone", "open sesame", leader, nil) },
		"truncated sealed": func() error {
			return meeting.CheckPasscode("c", id, "bob", "phone", "open sesame", leader, sealed[:100])
		},
	} {
		t.Run(name, func(t *testing.T) { require.ErrorIs(t, check(), meeting.ErrBadPasscode) })
	}
}
