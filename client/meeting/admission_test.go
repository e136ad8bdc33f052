package meeting_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

func refusedWith(r *recorder, reason meetingtypes.NoticeReason) bool {
	for _, e := range r.all() {
		if x, ok := e.(meeting.EventRefused); ok && x.Reason == reason {
			return true
		}
	}
	return false
}

// TestAdmissionRefusalsAreTold: a joiner with a wrong passcode is told at
// once, by a notice the leader signs, and its session ends, and it can
// withdraw the refused request to ask again; a joiner over
// what the call carries is told the meeting is full and waits, and the
// leader is told too; nobody waits in silence.
func TestAdmissionRefusalsAreTold(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice := h.device("alice", "alice", "laptop")
	bob, carol, dave := h.device("bob", "bob", "phone"), h.device("carol", "carol", "desk"), h.device("dave", "dave", "tab")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour, PasscodeRequired: true})
	require.NoError(t, err)
	h.run(alice, id, func(c *meeting.Config) { c.Passcode, c.MaxMembers = "right horse", 2 })

	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "wrong horse")
	require.NoError(t, err)
	// Meanwhile a lying node floods bob with notices claiming to be the
	// leader's (a few a millisecond, each costing bob a signature check):
	// they must not push the real one out of the session. The flood is
	// kept to what bob checks faster than it comes even on a loaded
	// machine; a faster one only overflows this in-memory mailbox's
	// subscription buffer, which drops the real notice with the forged
	// ones and tests the harness, not the session.
	bobEph, err := bob.eph.Load(id, bob.d)
	require.NoError(t, err)
	bobHash := keyschedule.EphemeralKeyHash(bobEph.PublicKey().Bytes())
	floodCtx, stopFlood := context.WithCancel(ctx)
	defer stopFlood()
	go func() {
		forged := make([]byte, 1+8+8+64)
		forged[0], forged[16] = 1, byte(meetingtypes.NoticeFull)
		for floodCtx.Err() == nil {
			for range 3 {
				_, _ = rand.Read(forged[17:])
				h.box.Inject(bobHash, meeting.Delivery{FromUser: "alice", FromDevice: "laptop", MeetingID: id, Kind: meeting.KindNotice, Body: append([]byte(nil), forged...)})
			}
			time.Sleep(time.Millisecond)
		}
	}()
	h.run(bob, id, nil)
	require.ErrorIs(t, bob.ended(t, 30*time.Second), meeting.ErrWrongPasscode, "the wrong passcode is told and ends the wait")
	stopFlood()
	require.False(t, refusedWith(bob.rec, meetingtypes.NoticeFull), "a forged notice was taken")
	require.True(t, refusedWith(bob.rec, meetingtypes.NoticeWrongPasscode))
	// Asking again needs the refused request taken back first: the chain
	// holds one open request per device, and the session erased the
	// request's ephemeral key, so Withdraw reads the key's hash from the
	// request itself.
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "right horse")
	require.Error(t, err, "a second request beside the refused one")
	_, err = meeting.Withdraw(ctx, bob.c, bob.d, id)
	require.NoError(t, err)
	_, err = meeting.Withdraw(ctx, bob.c, bob.d, id)
	require.ErrorIs(t, err, meeting.ErrNotPending, "nothing left to withdraw")

	_, err = meeting.Join(ctx, carol.c, carol.eph, carol.d, id, "right horse")
	require.NoError(t, err)
	h.run(carol, id, nil)
	waitFor(t, "carol admitted", func() bool { _, _, err := carol.rec.key(); return err == nil })

	_, err = meeting.Join(ctx, dave.c, dave.eph, dave.d, id, "right horse")
	require.NoError(t, err)
	h.run(dave, id, nil)
	waitFor(t, "dave told the meeting is full", func() bool { return refusedWith(dave.rec, meetingtypes.NoticeFull) })
	waitFor(t, "the leader told dave does not fit", func() bool {
		for _, e := range alice.rec.all() {
			if f, ok := e.(meeting.EventFull); ok && f.Device.User == "dave" && f.Limit == 2 {
				return true
			}
		}
		return false
	})
	_, _, err = dave.rec.key()
	require.Error(t, err, "dave got no key")
	select {
	case err := <-dave.done:
		t.Fatalf("dave's session ended (%v); a full meeting keeps him waiting", err)
	default:
	}
}
