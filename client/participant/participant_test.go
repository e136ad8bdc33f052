package participant_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/meeting/meetingtest"
	"github.com/parleynet/parley/client/participant"
	"github.com/parleynet/parley/internal/nettest"
)

func TestCallEpoch(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	ep := meeting.Epoch{
		Number: 4,
		Key:    key,
		Code:   "12345",
		Leader: meeting.DeviceRef{User: "alice", Device: "laptop"},
		Members: []meeting.Member{
			{DeviceRef: meeting.DeviceRef{User: "alice", Device: "laptop"}, DevicePub: ed25519.PublicKey{1}, EphPub: []byte{2}},
			{DeviceRef: meeting.DeviceRef{User: "bob", Device: "phone"}, DevicePub: ed25519.PublicKey{3}, EphPub: []byte{4}, AddedBy: "desk"},
		},
	}
	got := participant.CallEpoch(ep)
	if got.Number != 4 {
		t.Errorf("Number = %d, want 4", got.Number)
	}
	// The engine derives its SFrame keys from the session's key as it is;
	// the session clears it after OnEpoch, so no copy may linger.
	if &got.Key[0] != &key[0] {
		t.Error("Key is a copy of the session's key, want the same bytes")
	}
	want := []call.Member{
		{UserID: "alice", DeviceID: "laptop", DevicePub: ed25519.PublicKey{1}, EphPub: []byte{2}},
		{UserID: "bob", DeviceID: "phone", DevicePub: ed25519.PublicKey{3}, EphPub: []byte{4}},
	}
	if len(got.Members) != len(want) {
		t.Fatalf("%d members, want %d", len(got.Members), len(want))
	}
	for i, m := range got.Members {
		// Roster order is the SFrame sender index: it must not change.
		if m.UserID != want[i].UserID || m.DeviceID != want[i].DeviceID ||
			!bytes.Equal(m.DevicePub, want[i].DevicePub) || !bytes.Equal(m.EphPub, want[i].EphPub) {
			t.Errorf("member %d = %+v, want %+v", i, m, want[i])
		}
	}
}

func device(t *testing.T, user, dev string) meeting.Device {
	t.Helper()
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys")) // made 0700, as the store wants
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.Create(user, dev, nil, keystore.CreateOptions{Unencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return meeting.Device{UserID: user, DeviceID: dev, Key: k}
}

// A device with no ephemeral key for the meeting (it never asked to join)
// cannot become a participant; New says so before it reads the chain.
func TestNewWithoutEphemeralKey(t *testing.T) {
	_, err := participant.New(participant.Config{Session: meeting.Config{
		Mailbox:   meetingtest.NewMemMailbox().From("alice", "laptop"),
		Device:    device(t, "alice", "laptop"),
		MeetingID: bytes.Repeat([]byte{1}, 16),
		Eph:       meeting.EphStore{Dir: t.TempDir()},
	}})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("New: %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// On a real chain: New wires the session's ephemeral key into the call
// engine, and Run stops both when its context ends, closing the engine.
func TestNewRunClosesEngine(t *testing.T) {
	net := nettest.New(t, nettest.Options{})
	dev := device(t, "alice", "laptop")
	id := bytes.Repeat([]byte{1}, 16)
	eph := meeting.EphStore{Dir: t.TempDir()}
	k, err := eph.New(id, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	p, err := participant.New(participant.Config{Session: meeting.Config{
		Chain:     net.Verified(t, "alice"),
		Mailbox:   meetingtest.NewMemMailbox().From(dev.UserID, dev.DeviceID),
		Device:    dev,
		MeetingID: id,
		Eph:       eph,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Session().EphemeralKey().PublicKey().Bytes(), k.Public()) {
		t.Error("the session's ephemeral key is not the one stored for the meeting")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(300 * time.Millisecond) // a block or so of polling
	cancel()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	if err := p.Engine().Run(context.Background()); !errors.Is(err, call.ErrClosed) {
		t.Errorf("engine Run after the participant's: %v, want call.ErrClosed", err)
	}
}
