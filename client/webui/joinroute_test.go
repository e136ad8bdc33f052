package webui

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestJoinRoute: /join serves the page (without the secret) to the browser
// that holds the session cookie, and without it a short page that says to
// open `parley ui` first and carries nothing of the client.
func TestJoinRoute(t *testing.T) {
	s := newTestServer(t)
	u, _ := url.Parse(s.URL())
	base := "http://" + u.Host
	token := u.Query().Get("t")

	for _, path := range []string{"/join", "/join?t=" + token} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "parley ui") {
			t.Errorf("GET %s without the cookie: %d %q, want 403 telling to open parley ui", path, res.StatusCode, body)
		}
		if strings.Contains(string(body), "app.js") || strings.Contains(string(body), secretMeta) {
			t.Errorf("GET %s without the cookie leaked the page: %q", path, body)
		}
	}

	p := openLink(t, s) // /join?t= above did not spend the token
	res, err := p.b.http.Get(base + "/join")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `<script src="app.js">`) {
		t.Errorf("GET /join with the cookie: %d, want the page", res.StatusCode)
	}
	if strings.Contains(string(body), p.secret) || strings.Contains(string(body), secretMeta) {
		t.Error("GET /join served the page secret")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /join: Content-Security-Policy %q", csp)
	}
	res, err = p.b.http.Post(base+"/join", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Error("POST /join was served")
	}
}
