package webui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/parleynet/parley/client/meeting"
)

// secretRE finds the page secret in the page the link's token opens.
var secretRE = regexp.MustCompile(`<meta name="parley-secret" content="([0-9a-f]{64})">`)

// startServer is newTestServer with a shorter wait for the auth message.
func startServer(t *testing.T, wait time.Duration) *Server {
	t.Helper()
	s, err := New(Config{Chain: offlineChain(t), Keys: noKeys{}, NewMailbox: func(meeting.Device) (Mailbox, error) { return nil, http.ErrNotSupported }})
	if err != nil {
		t.Fatal(err)
	}
	s.authWait = wait
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// browser is the person's browser as far as cookies go: one jar for every
// server on this machine, which, like a browser's, ignores ports.
type browser struct {
	jar  *cookiejar.Jar
	http *http.Client
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{jar: jar, http: &http.Client{Jar: jar}}
}

// cookies returns the Cookie header the browser sends to host.
func (b *browser) cookies(host string) http.Header {
	h := http.Header{}
	for _, c := range b.jar.Cookies(&url.URL{Scheme: "http", Host: host, Path: "/"}) {
		h.Add("Cookie", c.String())
	}
	return h
}

// testPage is the real page: the browser that opened the link, and the
// secret the link's page carried.
type testPage struct {
	b      *browser
	host   string // 127.0.0.1:PORT
	origin string // http://127.0.0.1:PORT
	secret string
}

// openLink opens the printed link as the person's browser does.
func openLink(t *testing.T, s *Server) *testPage {
	t.Helper()
	b := newBrowser()
	res, err := b.http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET the link: %d", res.StatusCode)
	}
	m := secretRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the link's page has no page secret:\n%s", body)
	}
	u, _ := url.Parse(s.URL())
	return &testPage{b: b, host: u.Host, origin: "http://" + u.Host, secret: string(m[1])}
}

func authJSON(secret string, mode attachMode) []byte {
	return mustJSON(authMsg{Type: "auth", Secret: secret, Mode: mode})
}

// dial opens host's WebSocket with header h and sends first, unless nil.
func dial(t *testing.T, host string, h http.Header, first []byte) *websocket.Conn {
	t.Helper()
	ws, res, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws", h)
	if err != nil {
		code := 0
		if res != nil {
			code = res.StatusCode
		}
		t.Fatalf("WebSocket: %v (HTTP %d)", err, code)
	}
	t.Cleanup(func() { ws.Close() })
	if first != nil {
		if err := ws.WriteMessage(websocket.TextMessage, first); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// connect opens a WebSocket as the page does and sends its auth message.
func (p *testPage) connect(t *testing.T, mode attachMode) *websocket.Conn {
	t.Helper()
	h := p.b.cookies(p.host)
	h.Set("Origin", p.origin)
	return dial(t, p.host, h, authJSON(p.secret, mode))
}

// wantClosed reads ws until the client closes it, checks the close code,
// and fails if anything came before the close: a connection the client
// does not take as the page gets nothing from it.
func wantClosed(t *testing.T, ws *websocket.Conn, code int) string {
	t.Helper()
	return readToClose(t, ws, code, true)
}

// readToClose reads ws until it closes and checks the close code; strict,
// it fails on any message before the close.
func readToClose(t *testing.T, ws *websocket.Conn, code int, strict bool) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			if ce.Code != code {
				t.Errorf("closed with %d %q, want %d", ce.Code, ce.Text, code)
			}
			return ce.Text
		case err != nil:
			t.Errorf("connection ended without a close code: %v, want %d", err, code)
			return ""
		case strict:
			t.Errorf("a connection that should be closed with %d received %s", code, b)
			return ""
		}
	}
}

// wantAttached checks that ws became the page: the client sends the state.
func wantAttached(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var st stateMsg
	if err := ws.ReadJSON(&st); err != nil {
		t.Fatalf("not attached: %v", err)
	}
	if st.Type != "state" || st.Phase != phaseSignIn.String() || st.ChainID != "parley-test" {
		t.Fatalf("first message %+v, want the sign-in state", st)
	}
}

// wantAlive checks that ws is still the page: asked, the client answers.
func wantAlive(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello"}`)); err != nil {
		t.Fatalf("the page's connection: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("the page no longer hears from its client: %v", err)
		}
		if m["type"] == "state" {
			return
		}
	}
}

// TestTokenGate: nothing is served without the token or the cookie; the
// token works once, for GET /, and its response alone carries the page
// secret; the WebSocket needs the cookie and the page's own origin.
func TestTokenGate(t *testing.T) {
	s := newTestServer(t)
	u, _ := url.Parse(s.URL())
	base := "http://" + u.Host
	token := u.Query().Get("t")

	for _, path := range []string{"/", "/app.js", "/sframe-worker.js", "/?t=wrong", "/?t=", "/app.js?t=" + token, "/index.html?t=" + token} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without the cookie: %d, want 403", path, res.StatusCode)
		}
	}
	res, err := http.Post(s.URL(), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("POST with the token: %d, want 403 (only GET / spends it)", res.StatusCode)
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/ws", http.Header{"Origin": {base}}); err == nil {
		t.Error("WebSocket without the session cookie was accepted")
	}

	p := openLink(t, s) // the token still works: nothing above spent it
	res, err = p.b.http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), p.secret) || strings.Contains(string(body), secretMeta) {
		t.Errorf("the spent link with the cookie: %d, with the secret: %v; want the page without it", res.StatusCode, strings.Contains(string(body), p.secret))
	}
	for _, path := range []string{"/", "/app.js", "/sframe-worker.js", "/style.css"} {
		res, err := p.b.http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.Contains(string(body), p.secret) {
			t.Errorf("GET %s with the session cookie: %d, secret in it: %v", path, res.StatusCode, strings.Contains(string(body), p.secret))
		}
	}
	// The token was spent: another browser with the same link is refused.
	res, err = http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("the token worked twice: %d", res.StatusCode)
	}

	for _, origin := range []string{"http://evil.example", "http://127.0.0.1:1", "https://" + u.Host, ""} {
		h := p.b.cookies(u.Host)
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
	ws := p.connect(t, modeResume)
	wantAttached(t, ws)
	// Bad requests get a message naming what was wrong; the client goes on.
	for _, bad := range []string{`{not json`, `{"type":"fly"}`, `{"type":"create"}`, string(authJSON(p.secret, modeTake))} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		var n noticeMsg
		for n.Type != "notice" || n.Text == "" || n.Key == "keys" || n.Key == "chain" {
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

// TestWebSocketRefusals: every first message that does not prove the page
// secret closes the connection with a code and reason, gives it nothing,
// and leaves the attached page attached.
func TestWebSocketRefusals(t *testing.T) {
	s := startServer(t, 300*time.Millisecond)
	p := openLink(t, s)
	page := p.connect(t, modeResume)
	wantAttached(t, page)
	other := startServer(t, time.Second) // another run of `parley ui`, with its own secret
	stale := openLink(t, other).secret

	for _, tc := range []struct {
		name  string
		first []byte // nil: send nothing
		bin   bool
		code  int
	}{
		{"nothing", nil, false, closeBadAuth},
		{"not JSON", []byte(`{"type":"auth",`), false, closeBadAuth},
		{"hello first", []byte(`{"type":"hello"}`), false, closeBadAuth},
		{"a request first", []byte(`{"type":"end"}`), false, closeBadAuth},
		{"binary", authJSON(p.secret, modeTake), true, closeBadAuth},
		{"unknown mode", authJSON(p.secret, "steal"), false, closeBadAuth},
		{"no mode", []byte(`{"type":"auth","secret":"` + p.secret + `"}`), false, closeBadAuth},
		{"too long", []byte(`{"type":"auth","pad":"` + strings.Repeat("x", maxAuthMessage) + `"}`), false, websocket.CloseMessageTooBig},
		{"no secret", authJSON("", modeTake), false, closeBadSecret},
		{"wrong secret", authJSON(strings.Repeat("00", 32), modeTake), false, closeBadSecret},
		{"an earlier run's secret", authJSON(stale, modeResume), false, closeBadSecret},
		{"the secret in capitals", authJSON(strings.ToUpper(p.secret), modeTake), false, closeBadSecret},
		{"half the secret", authJSON(p.secret[:32], modeTake), false, closeBadSecret},
		{"the secret and more", authJSON(p.secret+"00", modeTake), false, closeBadSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := p.b.cookies(p.host)
			h.Set("Origin", p.origin)
			ws := dial(t, p.host, h, nil)
			if tc.first != nil {
				kind := websocket.TextMessage
				if tc.bin {
					kind = websocket.BinaryMessage
				}
				if err := ws.WriteMessage(kind, tc.first); err != nil {
					t.Fatal(err)
				}
			}
			if reason := wantClosed(t, ws, tc.code); tc.code != websocket.CloseMessageTooBig && reason == "" {
				t.Error("closed without a reason")
			}
			wantAlive(t, page)
		})
	}
}

// TestAttachModes: a tab that proves the secret attaches by itself only
// when no page is live (a reload), is told when another tab is the page,
// and replaces it only when it asks to take over.
func TestAttachModes(t *testing.T) {
	s := startServer(t, time.Second)
	p := openLink(t, s)
	first := p.connect(t, modeResume)
	wantAttached(t, first)

	if r := wantClosed(t, p.connect(t, modeResume), closeBusy); r != "Parley is open in another tab." {
		t.Errorf("busy reason %q", r)
	}
	wantAlive(t, first)
	wantClosed(t, p.connect(t, modeAsk), closeBusy)
	wantAlive(t, first)

	second := p.connect(t, modeTake)
	wantAttached(t, second)
	if r := readToClose(t, first, closeReplaced, false); r != "Parley was opened in another tab." {
		t.Errorf("replaced reason %q", r)
	}
	wantAlive(t, second)
	// The replaced tab coming back by itself does not fight the new one.
	wantClosed(t, p.connect(t, modeResume), closeBusy)
	wantAlive(t, second)

	// A reload: the old connection closes and the new one comes at once.
	second.Close()
	third := p.connect(t, modeResume)
	wantAttached(t, third)

	// Asking never attaches, even when no page is live.
	third.Close()
	wantClosed(t, p.connect(t, modeAsk), closeFree)
	wantClosed(t, p.connect(t, modeAsk), closeFree)
	wantAttached(t, p.connect(t, modeResume))
}

// TestCookieThiefOnAnotherPort: another server on 127.0.0.1, which the
// person's browser visits, receives the page's session cookie (cookies
// ignore ports). With it, from its own process, it forges the page's
// Origin and tries every way in; it gets no secret, no state and no say,
// and the real page stays attached and keeps hearing from its client.
func TestCookieThiefOnAnotherPort(t *testing.T) {
	s := startServer(t, 500*time.Millisecond)
	p := openLink(t, s)
	page := p.connect(t, modeResume)
	wantAttached(t, page)

	var mu sync.Mutex
	var stolen []*http.Cookie
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Cookies()...)
		mu.Unlock()
		_, _ = io.WriteString(w, "<p>nothing to see</p>")
	}))
	defer thief.Close()
	tu, _ := url.Parse(thief.URL)
	if tu.Hostname() != "127.0.0.1" || tu.Port() == strings.TrimPrefix(p.origin, "http://127.0.0.1:") {
		t.Fatalf("the thief is at %s, want 127.0.0.1 on another port", thief.URL)
	}
	res, err := p.b.http.Get(thief.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	mu.Lock()
	var cookie *http.Cookie
	for _, c := range stolen {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	mu.Unlock()
	if cookie == nil {
		t.Fatal("the browser did not send the session cookie to the other port; the test shows nothing")
	}
	stole := func() http.Header {
		h := http.Header{}
		h.Set("Cookie", cookie.String())
		h.Set("Origin", p.origin) // forged
		return h
	}

	// Everything served over HTTP with the cookie: no secret anywhere.
	for _, path := range []string{"/", "/?t=", "/?t=" + cookie.Value, "/app.js", "/sframe-worker.js", "/style.css", "/index.html"} {
		req, _ := http.NewRequest(http.MethodGet, p.origin+path, nil)
		req.Header = stole()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), p.secret) || strings.Contains(string(body), secretMeta+`" content="`) {
			t.Errorf("GET %s with the stolen cookie served the page secret", path)
		}
	}
	// The WebSocket, with the stolen cookie and the page's Origin, in
	// every mode, with nothing, guesses, and the cookie's own value.
	for _, tc := range []struct {
		name  string
		first []byte
		code  int
	}{
		{"silent", nil, closeBadAuth},
		{"the page's requests", []byte(`{"type":"signin","user":"alice","device":"laptop"}`), closeBadAuth},
		{"resume without the secret", authJSON("", modeResume), closeBadSecret},
		{"ask without the secret", authJSON("", modeAsk), closeBadSecret},
		{"take with a guess", authJSON(strings.Repeat("ab", 32), modeTake), closeBadSecret},
		{"take with the cookie as the secret", authJSON(cookie.Value, modeTake), closeBadSecret},
	} {
		ws := dial(t, p.host, stole(), tc.first)
		wantClosed(t, ws, tc.code)
		if tc.first != nil {
			// Nothing it sends after the refusal is taken either.
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"end"}`))
		}
	}
	// From its own page in the browser it cannot even open the socket.
	h := stole()
	h.Set("Origin", thief.URL)
	if _, res, err := websocket.DefaultDialer.Dial("ws://"+p.host+"/ws", h); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket from the thief's origin: %v, want 403", err)
	}

	// The real page is still the page and still hears from its client:
	// the client's periodic messages keep coming, and it answers.
	_ = page.SetReadDeadline(time.Now().Add(5 * time.Second))
	for n := 0; n < 2; n++ {
		kind, b, err := page.ReadMessage()
		if err != nil || kind != websocket.TextMessage {
			t.Fatalf("the real page lost its connection after the attempts: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["type"] == nil {
			t.Fatalf("the real page got %s", b)
		}
	}
	wantAlive(t, page)
}

// TestCloseEndsUnprovenConnections: a WebSocket waiting to send its auth
// message does not outlive the server.
func TestCloseEndsUnprovenConnections(t *testing.T) {
	s := startServer(t, time.Minute)
	p := openLink(t, s)
	h := p.b.cookies(p.host)
	h.Set("Origin", p.origin)
	ws := dial(t, p.host, h, nil)
	time.Sleep(100 * time.Millisecond) // let serveWS hold it
	start := time.Now()
	_ = s.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("the connection got a message")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the unproven connection outlived Close by %v", d)
	}
}

func TestParseAuth(t *testing.T) {
	sec := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in   string
		kind int
		want error
	}{
		{`{"type":"auth","secret":"` + sec + `","mode":"resume"}`, websocket.TextMessage, nil},
		{`{"type":"auth","secret":"` + sec + `","mode":"ask"}`, websocket.TextMessage, nil},
		{`{"type":"auth","secret":"","mode":"take"}`, websocket.TextMessage, nil}, // the secret is checked later
		{`{"type":"auth","secret":"` + sec + `","mode":"resume"}`, websocket.BinaryMessage, errAuthBinary},
		{`{"type":"auth","secret":"` + sec + `","mode":"Take"}`, websocket.TextMessage, errAuthMode},
		{`{"type":"auth","secret":"` + sec + `"}`, websocket.TextMessage, errAuthMode},
		{`{"type":"hello"}`, websocket.TextMessage, errAuthFirst},
		{`{"type":"auth","secret":1,"mode":"take"}`, websocket.TextMessage, errAuthFirst},
		{`[]`, websocket.TextMessage, errAuthFirst},
		{``, websocket.TextMessage, errAuthFirst},
	} {
		if _, err := parseAuth(tc.kind, []byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("parseAuth(%d, %s) = %v, want %v", tc.kind, tc.in, err, tc.want)
		}
	}
}

func FuzzParseAuth(f *testing.F) {
	f.Add([]byte(`{"type":"auth","secret":"00","mode":"resume"}`))
	f.Add([]byte(`{"type":"auth","mode":"take","mode":"ask"}`))
	f.Add([]byte(`{"type":"hello"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseAuth(websocket.TextMessage, b)
		if err != nil {
			return
		}
		if m.Type != "auth" || (m.Mode != modeResume && m.Mode != modeAsk && m.Mode != modeTake) {
			t.Fatalf("parseAuth accepted %+v", m)
		}
	})
}

// TestCloseReasonFits: a close reason too long for a close frame is cut
// (on a character boundary) rather than losing the close code.
func TestCloseReasonFits(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		newPageConn(ws).refuse(closeBadAuth, strings.Repeat("é", 100))
	}))
	defer srv.Close()
	ws := dial(t, strings.TrimPrefix(srv.URL, "http://"), nil, nil)
	if r := wantClosed(t, ws, closeBadAuth); len(r) > maxCloseReason || !utf8.ValidString(r) || r == "" {
		t.Errorf("close reason of %d bytes: %q", len(r), r)
	}
}
