package webui

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/gorilla/websocket"
)

// sessionCookie lets the browser that opened the link load the page.
const sessionCookie = "parley_session"

// secretMeta names the <meta> element that carries the page secret in the
// one response that spends the link's token.
const secretMeta = "parley-secret"

// maxAuthMessage bounds the first WebSocket message (an auth message is
// about 120 bytes), read before anything is known of the sender.
const maxAuthMessage = 1 << 10

// Refusals of a WebSocket's first message; the text is the close reason.
var (
	errAuthFirst  = errors.New("the page's first message must be an auth message")
	errAuthMode   = errors.New("unknown attach mode: want resume, ask or take")
	errBadSecret  = errors.New("this page does not hold this Parley client's page secret")
	errAuthBinary = errors.New("the page's first message must be text")
)

// gate keeps the page's three secrets, all drawn at start:
//
//   - token, in the link `parley ui` prints; it works once, for GET /;
//   - session, the cookie that the token's response sets: it lets the
//     browser load the page and open the WebSocket, and no more. Cookies
//     are not isolated by port, so every server on 127.0.0.1 the browser
//     visits receives it;
//   - secret, the page secret: it is written once, into the body of the
//     token's response (a <meta> element of the page), which only the
//     page's own origin can read, and the page keeps it in its origin's
//     storage. Every WebSocket must prove it in its first message before
//     the client gives it anything or takes any request from it.
//
// The cookie alone therefore opens nothing: a process that has it can load
// the static assets (public code) and no more.
type gate struct {
	mu      sync.Mutex
	token   string // empty once spent
	session string
	secret  string
}

func newGate() *gate {
	return &gate{token: randomHex(32), session: randomHex(32), secret: randomHex(32)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// check reports whether r may pass, and whether it just spent the token
// (then the caller sets the cookie and serves the page with the secret).
// Only a GET of / spends the token, so that a request for anything else
// cannot take the secret's one delivery away from the page.
func (g *gate) check(r *http.Request) (ok, spent bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, err := r.Cookie(sessionCookie); err == nil && equal(c.Value, g.session) {
		return true, false
	}
	if r.Method != http.MethodGet || r.URL.Path != "/" {
		return false, false
	}
	if t := r.URL.Query().Get("t"); g.token != "" && t != "" && equal(t, g.token) {
		g.token = ""
		return true, true
	}
	return false, false
}

// checkSecret reports whether s is the page secret, in constant time.
func (g *gate) checkSecret(s string) bool { return equal(s, g.secret) }

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// withSecret returns the page's HTML with the secret in a <meta> element
// right after <head>.
func withSecret(page []byte, secret string) []byte {
	meta := fmt.Sprintf("<head>\n<meta name=%q content=%q>", secretMeta, secret)
	return bytes.Replace(page, []byte("<head>"), []byte(meta), 1)
}

// parseAuth reads a WebSocket's first message: kind is its websocket
// message type. It checks the form, not the secret.
func parseAuth(kind int, b []byte) (authMsg, error) {
	if kind != websocket.TextMessage {
		return authMsg{}, errAuthBinary
	}
	var m authMsg
	if err := json.Unmarshal(b, &m); err != nil || m.Type != "auth" {
		return authMsg{}, errAuthFirst
	}
	switch m.Mode {
	case modeResume, modeAsk, modeTake:
		return m, nil
	}
	return authMsg{}, errAuthMode
}

// sameOrigin reports whether a WebSocket's Origin is the page's own:
// http://127.0.0.1:port or http://localhost:port of this server. A
// browser cannot forge it, so this stops other sites' pages; a local
// process can, which is why the page secret is needed as well.
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
