package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// TestBrowserTabs: the page of one `parley ui` in real Chromium, with a
// second tab and a local thief. The tab that opened the link is the page
// and survives a reload; a second tab of the same browser is told Parley
// is open in another tab and stays quiet until the person clicks "Use
// Parley here"; then the first tab is told and stays quiet in turn. A
// server on another 127.0.0.1 port that the browser visits receives the
// session cookie and, with it and a forged Origin, gets nothing from the
// client, while the real page stays attached and keeps hearing from it.
func TestBrowserTabs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain and a browser")
	}
	lc := startLocalnet(t, "parley-tabs")
	aliceHome := lc.device(t, "alice", "alice", "browser")
	ui := lc.start(t, aliceHome, "alice", "ui", "--port", "0")
	var link string
	waitOK(t, 30*time.Second, "parley ui to print its link", func() bool {
		link = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(ui.output())
		return link != ""
	})
	base := link[:strings.Index(link, "/?t=")]

	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	run := func(tab context.Context, what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(tab, actions...); err != nil {
			t.Fatalf("%s: %v\nparley ui:\n%s", what, err, ui.output())
		}
	}
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(30*time.Second))
	}
	received := func(tab context.Context) int {
		t.Helper()
		var n int
		run(tab, "count messages", chromedp.Evaluate(`window.parley.received()`, &n))
		return n
	}
	conn := func(tab context.Context) string {
		t.Helper()
		var c string
		run(tab, "read the connection", chromedp.Evaluate(`window.parley.conn()`, &c))
		return c
	}

	// Tab A opens the link: it keeps the secret, drops the token from the
	// address, signs in and starts a meeting.
	a := ctx
	var href, secret string
	var metaLeft bool
	run(a, "open the link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(`#signin`),
		chromedp.Evaluate(`location.href`, &href),
		chromedp.Evaluate(`localStorage.getItem('parley.secret') || ''`, &secret),
		chromedp.Evaluate(`!!document.querySelector('meta[name="parley-secret"]')`, &metaLeft),
	)
	if href != base+"/" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) || metaLeft {
		t.Fatalf("after the link: address %q, stored secret %q, secret element left in the page: %v", href, secret, metaLeft)
	}
	run(a, "sign in and create a meeting",
		poll(`document.querySelector('#device-select').value === 'alice/browser'`),
		chromedp.Click(`#signin-btn`),
		chromedp.WaitVisible(`#lobby`),
		chromedp.Click(`#admit-all`),
		chromedp.Click(`#create-btn`),
		chromedp.WaitVisible(`#call`),
		poll(`window.parley.epoch() >= 1`),
	)
	run(a, "reload tab A",
		chromedp.Reload(),
		chromedp.WaitVisible(`#call`),
		poll(`window.parley.conn() === 'attached' && window.parley.epoch() >= 1`),
	)

	// Tab B, a second tab of the same browser: told, not attached.
	b, closeB := chromedp.NewContext(ctx)
	defer closeB()
	var title string
	run(b, "open a second tab",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#tab[data-conn="busy"] #take-btn`),
		chromedp.Text(`#tab-title`, &title),
	)
	if title != "Parley is open in another tab" {
		t.Errorf("the second tab says %q", title)
	}
	var png []byte
	run(b, "screenshot the second tab", chromedp.FullScreenshot(&png, 100))
	saveArtifact(t, lc.root, "second-tab.png", png)
	before := received(a)
	time.Sleep(5 * time.Second) // time for the old bug's fight (every 2 s) to show
	if c := conn(a); c != "attached" {
		t.Fatalf("tab A is %q after a second tab opened, want attached", c)
	}
	if c, n := conn(b), received(b); c != "busy" || n != 0 {
		t.Fatalf("tab B is %q with %d messages from the client, want busy with none", c, n)
	}
	if after := received(a); after < before+3 {
		t.Errorf("tab A received %d messages in 5 s, want the client's updates every second", after-before)
	}

	// A server on another port of 127.0.0.1, visited by the browser (tab C),
	// receives the session cookie; with it and a forged Origin it tries the
	// page's HTTP and WebSocket.
	var mu sync.Mutex
	var cookie string
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("parley_session"); err == nil {
			mu.Lock()
			cookie = c.Value
			mu.Unlock()
		}
		_, _ = io.WriteString(w, "<!doctype html><title>nothing to see</title>")
	}))
	defer thief.Close()
	c, closeC := chromedp.NewContext(ctx)
	defer closeC()
	run(c, "visit the thief", chromedp.Navigate(thief.URL+"/"))
	mu.Lock()
	stolen := cookie
	mu.Unlock()
	if stolen == "" {
		t.Fatal("the browser did not send the session cookie to another port; the test shows nothing")
	}
	header := func() http.Header {
		return http.Header{"Cookie": {"parley_session=" + stolen}, "Origin": {base}}
	}
	for _, path := range []string{"/", "/?t=", "/app.js"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header = header()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), secret) {
			t.Errorf("GET %s with the stolen cookie served the page secret", path)
		}
	}
	host := strings.TrimPrefix(base, "http://")
	for _, try := range []struct {
		first string
		code  int
	}{
		{"", 4000},
		{`{"type":"hello"}`, 4000},
		{`{"type":"auth","secret":"","mode":"take"}`, 4003},
		{fmt.Sprintf(`{"type":"auth","secret":%q,"mode":"take"}`, stolen), 4003},
		{fmt.Sprintf(`{"type":"auth","secret":%q,"mode":"take"}`, strings.Repeat("0", 64)), 4003},
	} {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws", header())
		if err != nil {
			t.Fatalf("the thief's WebSocket: %v", err)
		}
		if try.first != "" {
			_ = ws.WriteMessage(websocket.TextMessage, []byte(try.first))
		}
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != try.code {
			t.Errorf("the thief sent %q: got %q, %v; want closed with %d and nothing", try.first, msg, err, try.code)
		}
		ws.Close()
	}
	before = received(a)
	time.Sleep(3 * time.Second)
	if c := conn(a); c != "attached" || received(a) < before+2 {
		t.Fatalf("after the thief's attempts tab A is %q and received %d messages in 3 s", c, received(a)-before)
	}
	if c := conn(b); c != "busy" {
		t.Errorf("after the thief's attempts tab B is %q", c)
	}

	// The person chooses tab B: it becomes the page; tab A is told, and
	// neither takes it back by itself.
	run(b, "use Parley in tab B",
		chromedp.Click(`#take-btn`),
		chromedp.WaitVisible(`#call`),
		poll(`window.parley.conn() === 'attached' && window.parley.epoch() >= 1`),
	)
	run(a, "tab A is told",
		poll(`window.parley.conn() === 'replaced'`),
		chromedp.WaitVisible(`#tab[data-conn="replaced"] #take-btn`),
		chromedp.Text(`#tab-title`, &title),
	)
	if title != "Parley is now open in another tab" {
		t.Errorf("the replaced tab says %q", title)
	}
	before = received(b)
	time.Sleep(5 * time.Second)
	if ca, cb := conn(a), conn(b); ca != "replaced" || cb != "attached" || received(b) < before+3 {
		t.Fatalf("5 s after the takeover: tab A %q, tab B %q with %d messages", ca, cb, received(b)-before)
	}
	// And back, by a click in tab A.
	run(a, "use Parley in tab A again",
		chromedp.Click(`#take-btn`),
		chromedp.WaitVisible(`#call`),
		poll(`window.parley.conn() === 'attached' && window.parley.epoch() >= 1`),
	)
	run(b, "tab B is told", poll(`window.parley.conn() === 'replaced'`))
	if out := ui.output(); !strings.Contains(out, "page connection refused") {
		t.Errorf("parley ui did not log the refused connections:\n%s", out)
	}
}

// saveArtifact writes a test artifact to build/test-artifacts.
func saveArtifact(t *testing.T, root, name string, b []byte) {
	t.Helper()
	dir := filepath.Join(root, "build", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact: %s", filepath.Join(dir, name))
}
