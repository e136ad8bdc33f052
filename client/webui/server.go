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
	// MeshSettings, optional, configures pion for the other members;
	// call.DefaultSettingEngine() by default.
	MeshSettings *webrtc.SettingEngine
	// Log, optional, receives one line per event.
	Log io.Writer
}

// Server serves the page and runs its device's meetings.
type Server struct {
	cfg   Config
	ln    net.Listener
	port  string
	url   string
	gate  *gate
	http  *http.Server
	ctl   *controller
	ws    websocket.Upgrader
	close sync.Once
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
	s := &Server{cfg: cfg, ln: ln, port: port, gate: newGate()}
	s.url = fmt.Sprintf("http://127.0.0.1:%s/?t=%s", port, s.gate.token)
	s.ws = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return sameOrigin(r, s.port) }}
	s.ctl = newController(cfg)
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.HandleFunc("/ws", s.serveWS)
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
		if !ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "Parley: this address needs the link that `parley ui` printed when it started.\n"+
				"Each link works once; if you opened it already, use the tab it opened, or restart `parley ui` for a new link.\n")
			return
		}
		if spent {
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.gate.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			if r.URL.Path == "/" {
				// Drop the spent token from the address bar.
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		next.ServeHTTP(w, r)
	})
}

// serveWS upgrades the page's WebSocket (same origin only) and hands it to
// the controller; a newer page replaces an older one.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r, s.port) {
		http.Error(w, "Parley: WebSocket from another origin refused", http.StatusForbidden)
		return
	}
	c, err := s.ws.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	s.ctl.attach(c)
}
