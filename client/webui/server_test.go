package webui

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

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

// TestTokenGate: nothing is served without the token; the token works
// once and turns into a session cookie; the WebSocket needs the cookie and
// the page's own origin.
func TestTokenGate(t *testing.T) {
	s := newTestServer(t)
	u, _ := url.Parse(s.URL())
	base := "http://" + u.Host

	for _, path := range []string{"/", "/app.js", "/sframe-worker.js", "/?t=wrong", "/?t="} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without the token: %d, want 403", path, res.StatusCode)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/ws", http.Header{"Origin": {base}}); err == nil {
		t.Error("WebSocket without the session cookie was accepted")
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.RawQuery != "" {
		t.Fatalf("GET with the token: %d at %s, want 200 at / (token dropped from the address)", res.StatusCode, res.Request.URL)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, path := range []string{"/app.js", "/sframe-worker.js", "/style.css"} {
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the session cookie: %d", path, res.StatusCode)
		}
	}
	// The token was spent: a second browser with the same link is refused.
	res, err = http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("the token worked twice: %d", res.StatusCode)
	}

	cookies := jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/"})
	hdr := http.Header{}
	for _, ck := range cookies {
		hdr.Add("Cookie", ck.String())
	}
	for _, origin := range []string{"http://evil.example", "http://127.0.0.1:1", "https://" + u.Host, ""} {
		h := hdr.Clone()
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, res, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/ws", h)
		if err == nil {
			ws.Close()
			t.Errorf("WebSocket from origin %q was accepted", origin)
		} else if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("WebSocket from origin %q: %v, want 403", origin, err)
		}
	}
	h := hdr.Clone()
	h.Set("Origin", base)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/ws", h)
	if err != nil {
		t.Fatalf("WebSocket from the page's origin: %v", err)
	}
	defer ws.Close()
	var st stateMsg
	if err := ws.ReadJSON(&st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "state" || st.Phase != phaseSignIn || st.ChainID != "parley-test" {
		t.Errorf("first message %+v, want the sign-in state", st)
	}
	// Bad requests get a message naming what was wrong; the client goes on.
	for _, bad := range []string{`{not json`, `{"type":"fly"}`, `{"type":"create"}`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		var n noticeMsg
		for n.Type != "notice" || n.Text == "" || n.Key == "keys" {
			n = noticeMsg{}
			if err := ws.ReadJSON(&n); err != nil {
				t.Fatalf("after %s: %v", bad, err)
			}
		}
		if n.Level != "error" {
			t.Errorf("after %s: notice %+v", bad, n)
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
