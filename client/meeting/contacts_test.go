package meeting_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
)

// TestResetDeviceIsMarkedAndWarned: carol's owner account resets her
// user (a new device no earlier device approved). Alice, who met carol
// before, sees carol's new device marked as added by a reset, and is
// warned that someone she met appears with a new device.
func TestResetDeviceIsMarkedAndWarned(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, carol := h.device("alice", "alice", "laptop"), h.device("carol", "carol", "phone")
	contacts := identity.NewContacts(t.TempDir())
	meet := func(c *hdev) meeting.Epoch {
		id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
		require.NoError(t, err)
		h.run(alice, id, func(cfg *meeting.Config) { cfg.Contacts = contacts })
		_, err = meeting.Join(ctx, c.c, c.eph, c.d, id, "")
		require.NoError(t, err)
		h.run(c, id, nil)
		var got meeting.Epoch
		waitFor(t, "carol in alice's epoch", func() bool {
			ep, ok := alice.rec.newestEpoch()
			if ok && len(ep.Members) == 2 {
				got = ep
			}
			return ok && len(ep.Members) == 2
		})
		alice.stop()
		c.stop()
		<-alice.done
		<-c.done
		return got
	}
	first := meet(carol)
	for _, m := range first.Members {
		require.False(t, m.Reset || m.NewSinceMet, "%s on first meeting", m.DeviceRef)
	}

	// The owner account resets carol: a new device, "tablet".
	k, err := h.st.Create("carol", "tablet", nil, keystore.CreateOptions{Unencrypted: true})
	require.NoError(t, err)
	_, err = identity.Reset(ctx, carol.c, "carol", "tablet", k)
	require.NoError(t, err)
	tablet := &hdev{d: meeting.Device{UserID: "carol", DeviceID: "tablet", Key: k}, c: carol.c, fo: &failovers{}, eph: meeting.EphStore{Dir: t.TempDir()}, rec: &recorder{}}
	second := meet(tablet)
	var seen bool
	for _, m := range second.Members {
		if m.User == "carol" {
			seen = true
			require.True(t, m.Reset, "the reset device is marked")
			require.True(t, m.NewSinceMet, "and new since alice last met carol")
		}
	}
	require.True(t, seen)
	warned := false
	for _, e := range alice.rec.all() {
		if kc, ok := e.(meeting.EventKeyChange); ok && kc.Change.User == "carol" && kc.Change.Device == "tablet" && kc.Change.Reset {
			warned = true
		}
	}
	require.True(t, warned, "alice is warned")
}
