package meeting_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// TestVerifyInvite: the receiver checks a signed invite against the chain
// before using it. The leader's invite passes; an attacker's tampered
// copy, one signed by another device, one for another chain and one
// naming another anchor are each refused with an error that says why.
func TestVerifyInvite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice := h.device("alice", "alice", "laptop")
	bob := h.device("bob", "bob", "phone")
	start := time.Now().Add(time.Hour).Truncate(time.Second)
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: 45 * time.Minute, StartsAt: start, PasscodeRequired: true})
	require.NoError(t, err)
	var m meetingtypes.Meeting
	require.Eventually(t, func() bool {
		snap, err := alice.c.Reader().Latest(ctx)
		if err != nil {
			return false
		}
		m, err = snap.Meeting(ctx, id)
		return err == nil
	}, time.Minute, 100*time.Millisecond)
	require.Equal(t, start.Unix(), m.StartsAt)

	good := meeting.InviteFor(alice.c.ChainID(), m, alice.c.Anchor())
	require.EqualValues(t, 45*60, good.DurationSeconds)
	link := meeting.SignInvite(alice.d, good).Invite().Link()
	inv, err := meeting.ParseInvite(link)
	require.NoError(t, err)
	got, err := meeting.VerifyInvite(ctx, bob.c, inv)
	require.NoError(t, err)
	require.Equal(t, id, got.MeetingId)

	signedBy := func(d meeting.Device, edit func(f *meetingtypes.InviteFields)) meeting.Invite {
		f := good
		f.AnchorHash = bytes.Clone(good.AnchorHash)
		edit(&f)
		inv, err := meeting.ParseInvite(meeting.SignInvite(d, f).Invite().Link())
		require.NoError(t, err)
		return inv
	}
	tampered := func(edit func(s *meeting.SignedInvite)) meeting.Invite {
		inv, err := meeting.ParseInvite(link)
		require.NoError(t, err)
		edit(inv.Signed)
		inv, err = meeting.ParseInvite(inv.Link())
		require.NoError(t, err)
		return inv
	}
	otherHash := bytes.Repeat([]byte{0x5a}, 32)
	for _, tc := range []struct {
		name     string
		inv      meeting.Invite
		want     error
		mentions []string
	}{
		{"tampered start", tampered(func(s *meeting.SignedInvite) { s.StartsAt += 3600 }), meeting.ErrInviteSignature, nil},
		{"tampered passcode flag", tampered(func(s *meeting.SignedInvite) { s.PasscodeRequired = false }), meeting.ErrInviteSignature, nil},
		{"leader swapped", tampered(func(s *meeting.SignedInvite) { s.LeaderUser, s.LeaderDevice = "bob", "phone" }), meeting.ErrInviteSignature, nil},
		{"signed by a non-leader, naming itself", signedBy(bob.d, func(f *meetingtypes.InviteFields) { f.LeaderUser, f.LeaderDevice = "bob", "phone" }),
			meeting.ErrInviteNotLeader, []string{"bob/phone", "alice/laptop"}},
		{"signed by a non-leader, naming the leader", signedBy(bob.d, func(*meetingtypes.InviteFields) {}), meeting.ErrInviteSignature, nil},
		{"wrong chain", signedBy(alice.d, func(f *meetingtypes.InviteFields) { f.ChainID = "evil-1" }), meeting.ErrInviteChain, []string{"evil-1", alice.c.ChainID()}},
		{"wrong anchor", signedBy(alice.d, func(f *meetingtypes.InviteFields) { f.AnchorHash = otherHash }), meeting.ErrInviteAnchor,
			[]string{alice.c.Anchor().String(), (verify.Anchor{Height: good.AnchorHeight, Hash: otherHash}).String()}},
		{"schedule not the chain's", signedBy(alice.d, func(f *meetingtypes.InviteFields) { f.StartsAt++ }), meeting.ErrInviteMismatch, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := meeting.VerifyInvite(ctx, bob.c, tc.inv)
			require.ErrorIs(t, err, tc.want)
			for _, s := range tc.mentions {
				require.Contains(t, err.Error(), s)
			}
		})
	}

	// A client without an anchor is told how to adopt one, never given it.
	err = meeting.CheckInviteAnchor(alice.c.ChainID(), verify.Anchor{}, inv.Signed)
	require.ErrorIs(t, err, meeting.ErrInviteNoAnchor)
	require.Contains(t, err.Error(), "parley trust init")
	require.Contains(t, err.Error(), alice.c.Anchor().String())
}
