package webui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

type noKeys struct{}

func (noKeys) List() ([]DeviceKeyInfo, error) { return nil, nil }
func (noKeys) Unlock(string, string, []byte) (meeting.Device, func(), error) {
	return meeting.Device{}, nil, http.ErrNotSupported
}

// offlineChain is a chain client for tests that never reach a node (so
// nothing is verified; the page's gate does not read the chain).
func offlineChain(t *testing.T) *verify.Client {
	t.Helper()
	ch, err := verify.Open(context.Background(), verify.Config{
		Chain:      chain.Config{Node: "tcp://127.0.0.1:1", ChainID: "parley-test", KeyringDir: t.TempDir(), KeyringBackend: "test"},
		Unverified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// newTestServer serves the page without a reachable chain: enough for
// the HTTP and WebSocket gate.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	ch := offlineChain(t)
	s, err := New(Config{Chain: ch, Keys: noKeys{}, NewMailbox: func(meeting.Device) (Mailbox, error) { return nil, http.ErrNotSupported }})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestServerRefusesNonLoopback(t *testing.T) {
	ch := offlineChain(t)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0"} {
		if _, err := New(Config{Addr: addr, Chain: ch, Keys: noKeys{}, NewMailbox: func(meeting.Device) (Mailbox, error) { return nil, nil }}); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("address %q: %v, want a loopback error", addr, err)
		}
	}
}

func TestParseInvite(t *testing.T) {
	id := "00112233445566778899aabbccddeeff"
	link := meeting.Invite{ChainID: "parley-test", MeetingID: mustHex(t, id)}.Link()
	if link != "parley:join?chain=parley-test&meeting="+id {
		t.Errorf("invite link %q", link)
	}
	anchor := "12:" + strings.Repeat("AB", 32)
	withTrust := meeting.Invite{ChainID: "parley-test", MeetingID: mustHex(t, id), Trust: anchor}.Link()
	for _, ok := range []string{id, " " + id + "\n", link, withTrust} {
		got, err := parseInvite(ok, "parley-test")
		if err != nil || len(got.MeetingID) != 16 || got.MeetingID[15] != 0xff || got.ChainID != "parley-test" {
			t.Errorf("parseInvite(%q) = %+v, %v", ok, got, err)
		}
	}
	if got, _ := parseInvite(withTrust, "parley-test"); got.Trust != anchor {
		t.Errorf("the invite's anchor came back as %q, want %q", got.Trust, anchor)
	}
	for in, want := range map[string]string{
		"":                                      "enter a meeting ID",
		"xyz":                                   "want 32 hex digits",
		id[:30]:                                 "want 32 hex digits",
		"https://example.com/join":              "is not an invite link",
		"parley:leave?meeting=" + id:            "is not an invite link",
		"parley:join?chain=other&meeting=" + id: `for chain "other"`,
		"parley:join?chain=parley-test&meeting=zz": "want 32 hex digits",
		"parley:join?chain=parley-test":            "want 32 hex digits",
		"parley:join?meeting=" + id:                "names no chain",
	} {
		if _, err := parseInvite(in, "parley-test"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseInvite(%q): %v, want an error with %q", in, err, want)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	id, err := meeting.ParseMeetingID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSlotTable: a member takes a slot with its first frame and keeps it
// while it sends; a member that left the roster frees its slot at once;
// one silent for slotIdle gives its slot to a member that has none; a
// member finds no slot while every slot is busy (a relay's flood of
// members cannot take the speakers' slots).
func TestSlotTable(t *testing.T) {
	now := time.Unix(1000, 0)
	tab := newSlotTable()
	tab.now = func() time.Time { return now }
	member := func(i int) string { return fmt.Sprintf("m%d/d", i) }
	for i := range numSlots {
		if got := tab.take(member(i)); got != i {
			t.Fatalf("member %d takes slot %d, want %d", i, got, i)
		}
	}
	now = now.Add(slotIdle / 2)
	if got := tab.take(member(3)); got != 3 {
		t.Fatalf("a member's next frame: slot %d, want its own 3", got)
	}
	if got := tab.take("late/d"); got != -1 {
		t.Fatalf("with every slot busy a newcomer got slot %d", got)
	}
	// Slot 3 spoke half an idle period later than the others: once the
	// others are idle, the newcomer takes the one idle longest, slot 0.
	now = now.Add(slotIdle/2 + time.Millisecond)
	if got := tab.take("late/d"); got != 0 {
		t.Fatalf("after slotIdle the newcomer got slot %d, want 0 (idle the longest)", got)
	}
	if got := tab.take(member(3)); got != 3 {
		t.Fatalf("member 3 lost its slot: %d", got)
	}
	// m1 leaves the roster: its slot is free at once for the next.
	var roster []call.Member
	for i := range numSlots {
		if i != 1 {
			roster = append(roster, call.Member{UserID: fmt.Sprintf("m%d", i), DeviceID: "d"})
		}
	}
	roster = append(roster, call.Member{UserID: "late", DeviceID: "d"})
	tab.keep(roster)
	if got := tab.take("next/d"); got != 1 {
		t.Fatalf("the slot of a member that left went to %d, want 1", got)
	}
	tab.reset()
	if got := tab.take(member(5)); got != 0 {
		t.Fatalf("after reset: slot %d", got)
	}
}

// TestPageCounterBlocks: every page instance gets its own block of SFrame
// counters in an epoch, so a reloaded page never reuses a nonce; a new
// epoch (a new key) starts again at 0.
func TestPageCounterBlocks(t *testing.T) {
	c := newController(Config{})
	c.lastEp = &epochMsg{Type: "epoch", Epoch: 3}
	seen := map[uint64]bool{}
	for range 5 {
		m := c.pageEpochLocked()
		if m.Epoch != 3 || seen[m.CtrBase] || m.CtrBase%pageCounterSpan != 0 {
			t.Fatalf("page epoch %+v (bases so far %v)", m, seen)
		}
		seen[m.CtrBase] = true
	}
	if c.lastEp.CtrBase != 0 {
		t.Error("pageEpochLocked changed the stored epoch")
	}
	c.lastEp, c.ctrNext = &epochMsg{Type: "epoch", Epoch: 4}, 0
	if m := c.pageEpochLocked(); m.CtrBase != 0 {
		t.Errorf("new epoch starts at counter %d", m.CtrBase)
	}
}
