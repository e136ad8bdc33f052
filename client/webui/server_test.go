package webui

import (
	"context"
	"net/http"
	"strings"
	"testing"

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

// TestSlotTable: members keep their slot while they stay; a removed
// member's slot is reused; this device never gets one.
func TestSlotTable(t *testing.T) {
	m := func(u string) call.Member { return call.Member{UserID: u, DeviceID: "d"} }
	tab := newSlotTable()
	got := tab.assign([]call.Member{m("alice"), m("bob"), m("carol")}, "alice", "d")
	if len(got) != 2 || got["bob/d"] != 0 || got["carol/d"] != 1 {
		t.Fatalf("first epoch: %v", got)
	}
	got = tab.assign([]call.Member{m("alice"), m("carol"), m("dave"), m("erin")}, "alice", "d")
	if got["carol/d"] != 1 || got["dave/d"] != 0 || got["erin/d"] != 2 || len(got) != 3 {
		t.Fatalf("second epoch: %v", got)
	}
	if tab.slotOf("bob/d") != -1 || tab.slotOf("erin/d") != 2 {
		t.Error("slotOf disagrees with assign")
	}
	var many []call.Member
	for _, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		many = append(many, m(u))
	}
	got = tab.assign(many, "a", "d")
	if len(got) != numSlots {
		t.Errorf("8 members: %d slots, want %d", len(got), numSlots)
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
