package turn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v5"

	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"}, DNSNames: []string{"relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// TestTURNOverTCPAndTLS allocates over real TCP and TLS sockets on
// loopback, for networks that block UDP: the client reaches the node by
// TCP, the relay port is UDP.
func TestTURNOverTCPAndTLS(t *testing.T) {
	cert := selfSigned(t)
	s, err := turn.New(turn.Config{
		UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}, TLS: []string{"127.0.0.1:0"},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		PublicIP:  net.ParseIP("127.0.0.1"), RelayAddress: "127.0.0.1", RelayPortMin: 40000, RelayPortMax: 40999,
		URLHost: "relay.test", Secret: turntest.Secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	urls := s.URLs()
	if len(urls) != 4 || !strings.HasPrefix(urls[0], "stun:relay.test:") || !strings.HasSuffix(urls[1], "?transport=udp") ||
		!strings.HasPrefix(urls[2], "turn:relay.test:") || !strings.HasPrefix(urls[3], "turns:relay.test:") {
		t.Fatalf("URLs %q", urls)
	}
	port := func(u string) string { return u[strings.LastIndex(u, ":")+1 : strings.Index(u, "?")] }
	cred := s.Issue("alice/laptop")
	for _, tc := range []struct {
		name string
		dial func() (net.Conn, error)
	}{
		{"tcp", func() (net.Conn, error) { return net.Dial("tcp", "127.0.0.1:"+port(urls[2])) }},
		{"tls", func() (net.Conn, error) {
			pool := x509.NewCertPool()
			leaf, _ := x509.ParseCertificate(cert.Certificate[0])
			pool.AddCert(leaf)
			return tls.Dial("tcp", "127.0.0.1:"+port(urls[3]), &tls.Config{RootCAs: pool, ServerName: "relay.test", MinVersion: tls.VersionTLS12})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tc.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			c, err := pionturn.NewClient(&pionturn.ClientConfig{
				STUNServerAddr: conn.RemoteAddr().String(), TURNServerAddr: conn.RemoteAddr().String(),
				Username: cred.Username, Password: cred.Password, Realm: turn.DefaultRealm,
				Conn: pionturn.NewSTUNConn(conn), LoggerFactory: logging.NewDefaultLoggerFactory(),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Listen(); err != nil {
				t.Fatal(err)
			}
			relay, err := c.Allocate()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = relay.Close() }()
			if a := relay.LocalAddr().(*net.UDPAddr); a.Port < 40000 || a.Port > 40999 {
				t.Errorf("relay address %v", a)
			}
		})
	}
}
