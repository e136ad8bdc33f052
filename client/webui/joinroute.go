package webui

import (
	"io"
	"net/http"
)

// An invite link is http://127.0.0.1:8765/join#<invite>: a click opens
// this client's page at /join, and the page (app.js, joinFromLink) takes
// the invite from the fragment, which the browser never sends here. So
// /join serves the page as / does, behind the same session cookie, and
// learns nothing of the invite.

// serveJoin serves the page for an invite link (the guard already checked
// the session cookie).
func (s *Server) serveJoin(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(s.page)
}

// refuseJoin answers /join without the session cookie: the person clicked
// an invite before opening their own `parley ui` (or in another browser).
// It says what to do and nothing else: no meeting, no page, no secret.
func refuseJoin(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, `<!doctype html><meta charset="utf-8"><title>Parley: open your Parley first</title>
<p>This is a Parley meeting invite. Open your own Parley first: run <code>parley ui</code> and open the link it prints,
in this browser. Then click the invite link again.</p>
`)
}
