package turn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/turn/v5"
)

// Server is a running STUN and TURN server.
type Server struct {
	cfg   Config
	creds *credentials
	q     *quotas
	log   logging.LeveledLogger
	pion  *turn.Server
	urls  []string

	udp []net.PacketConn
	tcp []net.Listener
	tls []net.Listener
}

// Stats are a server's counters.
type Stats struct {
	Allocations    int    // open now
	Devices        int    // devices holding allocations now
	RelayedBytes   uint64 // relayed to and from peers within budget
	DroppedPackets uint64 // over a bandwidth budget
}

// New listens on cfg's addresses and starts serving. Close stops it.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Net == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("turn: network: %w", err)
		}
		cfg.Net = n
	}
	s := &Server{
		cfg:   cfg,
		creds: &credentials{secret: cfg.Secret, ttl: cfg.CredentialTTL, grace: cfg.RefreshGrace, clock: cfg.Clock},
		q:     newQuotas(cfg),
		log:   cfg.LoggerFactory.NewLogger("parley-turn"),
	}
	ok := false
	defer func() {
		if !ok {
			s.closeListeners()
		}
	}()
	if err := s.listen(); err != nil {
		return nil, err
	}
	gen := func() turn.RelayAddressGenerator {
		return &relayGenerator{q: s.q, RelayAddressGenerator: &turn.RelayAddressGeneratorPortRange{
			RelayAddress: cfg.PublicIP,
			Address:      cfg.RelayAddress,
			MinPort:      cfg.RelayPortMin,
			MaxPort:      cfg.RelayPortMax,
			MaxRetries:   32,
			Net:          cfg.Net,
		}}
	}
	permit := func(_ net.Addr, peer net.IP) bool {
		if !peerAllowed(peer, cfg.AllowPrivatePeers) {
			s.log.Debugf("refused a permission for %s", peer)
			return false
		}
		return true
	}
	sc := turn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   s.authenticate,
		QuotaHandler:  func(id, _ string, _ net.Addr) bool { return s.q.room(id) },
		LoggerFactory: cfg.LoggerFactory,
	}
	for _, pc := range s.udp {
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn: pc, RelayAddressGenerator: gen(), PermissionHandler: permit,
		})
	}
	for _, l := range append(append([]net.Listener(nil), s.tcp...), s.tls...) {
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{
			Listener: l, RelayAddressGenerator: gen(), PermissionHandler: permit,
		})
	}
	p, err := turn.NewServer(sc)
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	s.pion = p
	s.urls = s.makeURLs()
	ok = true
	return s, nil
}

// listen opens every configured address on cfg.Net.
func (s *Server) listen() error {
	for _, a := range s.cfg.UDP {
		pc, err := s.cfg.Net.ListenPacket("udp4", a) //nolint:noctx // transport.Net has no context variant
		if err != nil {
			return fmt.Errorf("turn: listening on UDP %s: %w", a, err)
		}
		s.udp = append(s.udp, pc)
	}
	for _, a := range s.cfg.TCP {
		l, err := s.listenTCP(a)
		if err != nil {
			return err
		}
		s.tcp = append(s.tcp, l)
	}
	for _, a := range s.cfg.TLS {
		l, err := s.listenTCP(a)
		if err != nil {
			return err
		}
		s.tls = append(s.tls, tls.NewListener(l, s.cfg.TLSConfig))
	}
	return nil
}

func (s *Server) listenTCP(a string) (net.Listener, error) {
	addr, err := s.cfg.Net.ResolveTCPAddr("tcp4", a)
	if err == nil {
		var l transport.TCPListener
		if l, err = s.cfg.Net.ListenTCP("tcp4", addr); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("turn: listening on TCP %s: %w", a, err)
}

// authenticate is pion's AuthHandler: the credential check, with the key
// pion then checks the request's MESSAGE-INTEGRITY with.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	if ra.Realm != s.cfg.Realm {
		s.log.Debugf("refused %v from %s: realm %q", ra.Method, ra.SrcAddr, ra.Realm)
		return "", nil, false
	}
	id, password, err := s.creds.check(ra.Username, ra.Method == stun.MethodAllocate)
	if err != nil {
		// The sentinel only: the message names the username, which is
		// not for the logs.
		why := ErrBadCredential
		if errors.Is(err, ErrCredentialExpired) {
			why = ErrCredentialExpired
		}
		s.log.Debugf("refused %v from %s: %v", ra.Method, ra.SrcAddr, why)
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

// Issue returns a credential for subject (a device, "user/device"), valid
// for Config.CredentialTTL.
func (s *Server) Issue(subject string) Credential { return s.creds.issue(subject) }

// URLs returns the server's STUN and TURN URLs, for clients: per UDP
// address "stun:" and "turn:…?transport=udp", per TCP address
// "turn:…?transport=tcp", per TLS address "turns:…?transport=tcp".
func (s *Server) URLs() []string { return append([]string(nil), s.urls...) }

func (s *Server) makeURLs() []string {
	host := s.cfg.URLHost
	if host == "" {
		host = s.cfg.PublicIP.String()
	}
	hp := func(a net.Addr) string {
		_, port, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort(host, port)
	}
	var urls []string
	for _, pc := range s.udp {
		urls = append(urls, "stun:"+hp(pc.LocalAddr()), "turn:"+hp(pc.LocalAddr())+"?transport=udp")
	}
	for _, l := range s.tcp {
		urls = append(urls, "turn:"+hp(l.Addr())+"?transport=tcp")
	}
	for _, l := range s.tls {
		urls = append(urls, "turns:"+hp(l.Addr())+"?transport=tcp")
	}
	return urls
}

// UDPAddr returns the address of the first UDP listener, nil without one.
func (s *Server) UDPAddr() net.Addr {
	if len(s.udp) == 0 {
		return nil
	}
	return s.udp[0].LocalAddr()
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	a, d := s.q.counts()
	return Stats{Allocations: a, Devices: d, RelayedBytes: s.q.relayed.Load(), DroppedPackets: s.q.dropped.Load()}
}

// Close stops the server: every allocation ends and every listener
// closes.
func (s *Server) Close() error {
	err := s.pion.Close()
	if err != nil && errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) closeListeners() {
	for _, pc := range s.udp {
		_ = pc.Close()
	}
	for _, l := range append(s.tcp, s.tls...) {
		_ = l.Close()
	}
}
