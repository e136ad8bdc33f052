package turn_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	pionturn "github.com/pion/turn/v5"

	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// wan is a virtual internet (203.0.113.0/24, TEST-NET-3: public
// addresses) with a TURN server on .1.
type wan struct {
	router *vnet.Router
	server *turn.Server
	next   int
}

func newWAN(t *testing.T, cfg turn.Config) *wan {
	t.Helper()
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "203.0.113.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	w := &wan{router: r, next: 10}
	w.server = turntest.Start(t, r, "203.0.113.1", cfg)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return w
}

// host adds a host and returns a UDP socket on it.
func (w *wan) host(t *testing.T) (*vnet.Net, net.PacketConn) {
	t.Helper()
	ip := fmt.Sprintf("203.0.113.%d", w.next)
	w.next++
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.router.AddNet(n); err != nil {
		t.Fatal(err)
	}
	pc, err := n.ListenPacket("udp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return n, pc
}

// client returns a TURN client on a new host, with username and password.
func (w *wan) client(t *testing.T, username, password string) *pionturn.Client {
	t.Helper()
	n, pc := w.host(t)
	c, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: "203.0.113.1:3478", TURNServerAddr: "203.0.113.1:3478",
		Username: username, Password: password, Realm: turn.DefaultRealm,
		Conn: pc, Net: n, RTO: 100 * time.Millisecond, LoggerFactory: logging.NewDefaultLoggerFactory(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (w *wan) allocate(t *testing.T, cred turn.Credential) (net.PacketConn, error) {
	t.Helper()
	c := w.client(t, cred.Username, cred.Password)
	relay, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { _ = relay.Close() })
	}
	return relay, err
}

func TestSTUNAnswersAnyone(t *testing.T) {
	w := newWAN(t, turn.Config{})
	c := w.client(t, "", "")
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatal(err)
	}
	if got := mapped.(*net.UDPAddr).IP.String(); got != "203.0.113.10" {
		t.Errorf("mapped address %v", mapped)
	}
}

func TestRelayCarriesPackets(t *testing.T) {
	w := newWAN(t, turn.Config{})
	relay, err := w.allocate(t, w.server.Issue("alice/laptop"))
	if err != nil {
		t.Fatal(err)
	}
	if got := relay.LocalAddr().(*net.UDPAddr); !got.IP.Equal(net.ParseIP("203.0.113.1")) || got.Port < 50000 || got.Port > 50999 {
		t.Errorf("relay address %v, want 203.0.113.1:50000-50999", got)
	}
	_, peer := w.host(t)
	msg := []byte("ciphertext only")
	if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], msg) || from.String() != relay.LocalAddr().String() {
		t.Fatalf("peer got %q from %v: %v", buf[:n], from, err)
	}
	if _, err := peer.WriteTo([]byte("reply"), relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = relay.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("client got %q: %v", buf[:n], err)
	}
	if st := w.server.Stats(); st.Allocations != 1 || st.Devices != 1 || st.RelayedBytes == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestCredentialAttacks: what a device without a good credential gets.
func TestCredentialAttacks(t *testing.T) {
	clk := &clock{now: time.Now()}
	w := newWAN(t, turn.Config{Clock: clk, CredentialTTL: time.Minute})
	stolen := w.server.Issue("alice/laptop")

	t.Run("a password that is not the HMAC of the username", func(t *testing.T) {
		if _, err := w.allocate(t, turn.Credential{Username: stolen.Username, Password: "guess"}); err == nil {
			t.Fatal("allocated with a wrong password")
		}
	})
	t.Run("a stolen username with a later expiry", func(t *testing.T) {
		u := fmt.Sprintf("%d%s", time.Now().Add(time.Hour).Unix(), stolen.Username[len(fmt.Sprint(stolen.Expires.Unix())):])
		if _, err := w.allocate(t, turn.Credential{Username: u, Password: stolen.Password}); err == nil {
			t.Fatal("allocated with a rewritten expiry")
		}
	})
	t.Run("a user name of the coturn kind", func(t *testing.T) {
		if _, err := w.allocate(t, turn.Credential{Username: "alice", Password: stolen.Password}); err == nil {
			t.Fatal("allocated with a plain user name")
		}
	})
	t.Run("a stolen credential after it expired", func(t *testing.T) {
		if _, err := w.allocate(t, stolen); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clk.Advance(time.Minute + time.Second)
		if _, err := w.allocate(t, stolen); err == nil {
			t.Fatal("allocated with an expired credential")
		}
		if _, err := w.allocate(t, w.server.Issue("alice/laptop")); err != nil {
			t.Fatalf("a fresh credential after the old one expired: %v", err)
		}
	})
}

// TestAllocationFlood: one device opening allocation after allocation
// from fresh sockets is stopped at its quota; other devices are not; the
// node stops at its total.
func TestAllocationFlood(t *testing.T) {
	w := newWAN(t, turn.Config{MaxDeviceAllocations: 3, MaxAllocations: 5})
	mallory := w.server.Issue("mallory/laptop")
	var held []net.PacketConn
	for i := range 6 {
		relay, err := w.allocate(t, mallory)
		if i < 3 && err != nil {
			t.Fatalf("allocation %d within the quota: %v", i, err)
		}
		if i >= 3 && err == nil {
			t.Fatalf("allocation %d beyond the device quota of 3 succeeded", i)
		}
		if err == nil {
			held = append(held, relay)
		}
	}
	if st := w.server.Stats(); st.Allocations != 3 || st.Devices != 1 {
		t.Fatalf("stats after the flood: %+v", st)
	}
	if _, err := w.allocate(t, w.server.Issue("bob/phone")); err != nil {
		t.Fatalf("bob during mallory's flood: %v", err)
	}
	if _, err := w.allocate(t, w.server.Issue("carol/tablet")); err != nil {
		t.Fatalf("carol: %v", err)
	}
	if _, err := w.allocate(t, w.server.Issue("dave/desk")); err == nil {
		t.Fatal("a sixth allocation beyond the node's total of 5 succeeded")
	}
	// A released allocation frees its place.
	_ = held[0].Close()
	waitFor(t, "the released allocation to be counted", func() bool { return w.server.Stats().Allocations == 4 })
	if _, err := w.allocate(t, mallory); err != nil {
		t.Fatalf("mallory after releasing one: %v", err)
	}
}

// TestBandwidthBudget: an allocation that sends faster than its budget has
// the excess dropped at the relay.
func TestBandwidthBudget(t *testing.T) {
	clk := &clock{now: time.Now()}                                        // stopped: budgets never refill
	w := newWAN(t, turn.Config{Clock: clk, AllocationBandwidth: 800_000}) // 100 kB/s, 64 KiB burst
	relay, err := w.allocate(t, w.server.Issue("alice/laptop"))
	if err != nil {
		t.Fatal(err)
	}
	_, peer := w.host(t)
	pkt := make([]byte, 1000)
	for range 200 {
		if _, err := relay.WriteTo(pkt, peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	got := 0
	buf := make([]byte, 1500)
	for {
		_ = peer.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, _, err := peer.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	st := w.server.Stats()
	t.Logf("peer received %d of 200 packets of 1000 B; %d dropped at the relay", got, st.DroppedPackets)
	if got == 0 || got > 66 || st.DroppedPackets < 200-66 {
		t.Fatalf("received %d, dropped %d: want at most the 64 KiB burst through", got, st.DroppedPackets)
	}
}

// TestPeersRefused: the relay does not send to loopback or link-local
// addresses, so a client cannot reach the node's own services through it.
func TestPeersRefused(t *testing.T) {
	w := newWAN(t, turn.Config{})
	cred := w.server.Issue("mallory/laptop")
	cl := w.client(t, cred.Username, cred.Password)
	if _, err := cl.Allocate(); err != nil {
		t.Fatal(err)
	}
	for _, peer := range []string{"127.0.0.1:26657", "169.254.169.254:80", "224.0.0.251:5353"} {
		addr, _ := net.ResolveUDPAddr("udp4", peer)
		if err := cl.CreatePermission(addr); err == nil {
			t.Errorf("permission for %s granted", peer)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  turn.Config
	}{
		{"no secret", turn.Config{PublicIP: net.ParseIP("203.0.113.1")}},
		{"short secret", turn.Config{PublicIP: net.ParseIP("203.0.113.1"), Secret: []byte("short")}},
		{"no public IP", turn.Config{Secret: turntest.Secret}},
		{"unspecified public IP", turn.Config{Secret: turntest.Secret, PublicIP: net.IPv4zero}},
		{"bad port range", turn.Config{Secret: turntest.Secret, PublicIP: net.ParseIP("203.0.113.1"), RelayPortMin: 6000, RelayPortMax: 5000}},
		{"TLS without certificate", turn.Config{Secret: turntest.Secret, PublicIP: net.ParseIP("203.0.113.1"), TLS: []string{"127.0.0.1:0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := turn.New(tc.cfg); !errors.Is(err, turn.ErrInvalidConfig) {
				t.Fatalf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
