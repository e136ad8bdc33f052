package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
)

// sessionCookie carries the page's session secret after the one-time token.
const sessionCookie = "parley_session"

// gate admits the page that holds the one-time token, once, and from then
// on only requests with the session cookie it was given. The token is in
// the URL `parley ui` prints (and so in the browser's history); the cookie
// (HttpOnly, SameSite=Strict) is not readable by scripts of other origins
// and is never printed.
type gate struct {
	mu      sync.Mutex
	token   string // empty once used
	session string
}

func newGate() *gate {
	return &gate{token: randomHex(32), session: randomHex(32)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// check reports whether r may pass, and whether it just spent the token
// (then the caller sets the cookie).
func (g *gate) check(r *http.Request) (ok, spent bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, err := r.Cookie(sessionCookie); err == nil && equal(c.Value, g.session) {
		return true, false
	}
	if t := r.URL.Query().Get("t"); g.token != "" && t != "" && equal(t, g.token) {
		g.token = ""
		return true, true
	}
	return false, false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// sameOrigin reports whether a WebSocket's Origin is the page's own:
// http://127.0.0.1:port or http://localhost:port of this server.
func sameOrigin(r *http.Request, port string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme != "http" || u.Port() != port {
		return false
	}
	return u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost"
}
