package webui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

//go:embed assets
var assets embed.FS

// Keys is the device keystore as the page needs it.
type Keys interface {
	// List returns the device keys this client holds.
	List() ([]DeviceKeyInfo, error)
	// Unlock opens one; done wipes it.
	Unlock(user, device string, passphrase []byte) (d meeting.Device, done func(), err error)
}

// DeviceKeyInfo names a device key in the keystore.
type DeviceKeyInfo struct {
	User, Device string
	Encrypted    bool
}

// Mailbox is a node mailbox client for one device.
type Mailbox interface {
	meeting.Mailbox
	Close() error
}

// Config configures a Server.
type Config struct {
	// Addr to listen on; must be a loopback address. Default 127.0.0.1:0
	// (a free port).
	Addr  string
	Chain *verify.Client
	Keys  Keys
	// NewMailbox makes the mailbox client of the signed-in device.
	NewMailbox func(d meeting.Device) (Mailbox, error)
	Eph        meeting.EphStore
	// Contacts, optional, remembers the devices of people met and warns
	// when someone met before appears with a new device.
	Contacts meeting.Contacts
	// MeshSettings, optional, configures pion for the other members;
	// call.DefaultSettingEngine() by default.
	MeshSettings *webrtc.SettingEngine
	// Log, optional, receives one line per event.
	Log io.Writer
	// Setup, optional, lets the page make this client's first device key
	// and register or link it (firstrun.go); nil: keys come from the CLI.
	Setup Setup
	// PayWith, optional, returns the chain client that pays with a
	// signed-in device's own account (account.go); nil: Chain pays.
	PayWith PayWith
}

// authWait is how long a new WebSocket has to send its auth message.
const authWait = 5 * time.Second

// closingGrace is how long a page that asks to attach (modeResume, or
// modeAsk for an answer) waits for an attached page that is going away:
// a reloaded page's new connection may arrive just before the client has
// seen the old one close.
const closingGrace = time.Second

// Server serves the page and runs its device's meetings.
type Server struct {
	cfg      Config
	ln       net.Listener
	port     string
	url      string
	gate     *gate
	page     []byte // index.html, for the response that carries the secret
	authWait time.Duration
	http     *http.Server
	ctl      *controller
	ws       websocket.Upgrader
	close    sync.Once

	mu      sync.Mutex
	closed  bool
	unknown map[*websocket.Conn]bool // WebSockets that have not proven the secret yet
}

// New listens on cfg.Addr and prepares the server; Serve serves.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil || cfg.Keys == nil || cfg.NewMailbox == nil {
		return nil, errors.New("webui: Chain, Keys and NewMailbox are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("webui: address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("webui: address %q is not a loopback address; the page must stay on this machine", cfg.Addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("webui: listen on %s: %w", cfg.Addr, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("webui: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, port: port, gate: newGate(), page: page, authWait: authWait, unknown: map[*websocket.Conn]bool{}}
	s.url = fmt.Sprintf("http://127.0.0.1:%s/?t=%s", port, s.gate.token)
	s.ws = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return sameOrigin(r, s.port) }}
	s.ctl = newController(cfg)
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("GET /join", s.serveJoin) // joinroute.go
	mux.Handle("/", files)
	s.http = &http.Server{Handler: s.guard(mux), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// URL is the address to open, with the one-time token.
func (s *Server) URL() string { return s.url }

// Serve serves until Close; it returns nil after Close.
func (s *Server) Serve() error {
	go s.ctl.run()
	err := s.http.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving and leaves any meeting the page is in (a leader's
// meeting stays open: the leader may come back).
func (s *Server) Close() error {
	s.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(ctx)
		s.mu.Lock()
		s.closed = true
		for ws := range s.unknown {
			_ = ws.Close() // ends its serveWS, which is waiting for the auth message
		}
		s.mu.Unlock()
		s.ctl.close()
	})
	return nil
}

// guard refuses every request without the token or the session cookie,
// and keeps the page out of other sites' frames and caches.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws://127.0.0.1:"+s.port+" ws://localhost:"+s.port+"; img-src 'self' data:; media-src 'self' blob: mediastream:; worker-src 'self'; frame-ancestors 'none'")
		ok, spent := s.gate.check(r)
		if !ok && r.URL.Path == "/join" {
			refuseJoin(w)
			return
		}
		if !ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "Parley: this address needs the link that `parley ui` printed when it started.\n"+
				"Each link works once; if you opened it already, use the tab it opened, or restart `parley ui` for a new link.\n")
			return
		}
		if spent {
			// The one response with the page secret: to the request
			// that carries the link's token, which only the person's
			// browser has; the page drops the token from the address
			// bar once it has kept the secret.
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.gate.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(withSecret(s.page, s.gate.secret))
			return
		}
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		next.ServeHTTP(w, r)
	})
}

// serveWS upgrades a WebSocket from the page's origin and admits it as
// the page only once its first message proves the page secret; what it
// may then do is up to its attach mode (protocol.go). A connection that
// does not prove the secret gets nothing from the client and displaces no
// page.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r, s.port) {
		http.Error(w, "Parley: WebSocket from another origin refused", http.StatusForbidden)
		return
	}
	ws, err := s.ws.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	if !s.hold(ws) {
		_ = ws.Close()
		return
	}
	a, code, err := s.authenticate(ws)
	s.release(ws)
	p := newPageConn(ws)
	if err != nil {
		s.ctl.logf("page connection refused: %v", err)
		p.refuse(code, err.Error())
		return
	}
	s.admit(p, a.Mode)
}

// hold records a WebSocket that has not proven the secret, so that Close
// can end it; false when the server is closed.
func (s *Server) hold(ws *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.unknown[ws] = true
	return true
}

func (s *Server) release(ws *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.unknown, ws)
}

// authenticate reads ws's first message, within authWait, and checks it
// proves the page secret. On error it returns the close code to refuse
// with.
func (s *Server) authenticate(ws *websocket.Conn) (authMsg, int, error) {
	ws.SetReadLimit(maxAuthMessage)
	_ = ws.SetReadDeadline(time.Now().Add(s.authWait))
	kind, b, err := ws.ReadMessage()
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return authMsg{}, closeBadAuth, fmt.Errorf("no auth message within %v", s.authWait)
	case err != nil:
		return authMsg{}, closeBadAuth, fmt.Errorf("reading the auth message: %w", err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	m, err := parseAuth(kind, b)
	if err != nil {
		return authMsg{}, closeBadAuth, err
	}
	if !s.gate.checkSecret(m.Secret) {
		return authMsg{}, closeBadSecret, errBadSecret
	}
	return m, 0, nil
}

// admit attaches p as mode asks, waiting up to closingGrace for a page
// that is going away, and otherwise tells p why not.
func (s *Server) admit(p *pageConn, mode attachMode) {
	grace := time.NewTimer(closingGrace)
	defer grace.Stop()
	for {
		ok, live := s.ctl.attach(p, mode)
		switch {
		case ok:
			return
		case live == nil:
			p.refuse(closeFree, "Parley is not open in another tab.")
			return
		}
		select {
		case <-live:
		case <-grace.C:
			p.refuse(closeBusy, "Parley is open in another tab.")
			return
		}
	}
}
