package call_test

import (
	"context"
	"crypto/ed25519"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

// startOn runs an engine for dev with pion settings se, as startPartyWith
// does on calltest.VNet.
func startOn(t *testing.T, ctx context.Context, dev *calltest.Device, se *webrtc.SettingEngine, netw *calltest.Network, mod func(*call.Config)) *party {
	t.Helper()
	cfg := dev.Config(netw.Endpoint(dev.Member))
	cfg.SettingEngine = se
	video, err := call.NewAdaptiveSyntheticSource(1_000_000, 30)
	if err != nil {
		t.Fatal(err)
	}
	audio, err := call.NewSyntheticSource(call.Audio, 32_000, 50)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Video, cfg.Audio = video, audio
	p := &party{dev: dev, rec: calltest.NewRecorder(), done: make(chan error, 1)}
	cfg.Sinks = p.rec.Sinks()
	if mod != nil {
		mod(&cfg)
	}
	eng, err := call.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.eng = eng
	go func() { p.done <- eng.Run(ctx) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// relaysOf is what a node's mailbox hands device subject: the TURN
// server's URLs with a fresh credential.
func relaysOf(s *turn.Server, subject string) call.RelaySource {
	return func(context.Context) ([]webrtc.ICEServer, time.Time, error) {
		c := s.Issue(subject)
		return []webrtc.ICEServer{{URLs: s.URLs(), Username: c.Username, Credential: c.Password}}, c.Expires, nil
	}
}

// natCall runs alice on the first LAN of in and bob on the second, both
// with srv's relays, until each decrypts the other's media; it returns
// their parties.
func natCall(t *testing.T, in *calltest.Internet, srv *turn.Server, netw *calltest.Network, modAlice func(*call.Config)) (alice, bob *party) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, b := calltest.NewDevice(t, "alice", "laptop"), calltest.NewDevice(t, "bob", "phone")
	alice = startOn(t, ctx, a, in.LANs[0].SettingEngine(t), netw, func(c *call.Config) {
		c.Reach.Relays = relaysOf(srv, "alice/laptop")
		if modAlice != nil {
			modAlice(c)
		}
	})
	bob = startOn(t, ctx, b, in.LANs[1].SettingEngine(t), netw, func(c *call.Config) {
		c.Reach.Relays = relaysOf(srv, "bob/phone")
	})
	ep := calltest.NewEpoch(t, 1, a, b)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	waitFor(t, 30*time.Second, "both to decrypt the other's video and audio", func() bool {
		return alice.rec.Frames(bob.name(), call.Video, 1) > 10 && alice.rec.Frames(bob.name(), call.Audio, 1) > 10 &&
			bob.rec.Frames(alice.name(), call.Video, 1) > 10 && bob.rec.Frames(alice.name(), call.Audio, 1) > 10
	})
	t.Logf("media both ways after %v", time.Since(start).Round(time.Millisecond))
	return alice, bob
}

func pathTo(t *testing.T, p *party, peer string) call.Path {
	t.Helper()
	var path call.Path
	waitFor(t, 10*time.Second, p.name()+"'s selected path", func() bool {
		s, ok := p.statsOf(peer)
		path = s.Path
		return ok && path.Local != ""
	})
	return path
}

// TestNATEndpointIndependentDirect: two members behind endpoint-independent
// NATs learn their outside addresses from the node's STUN server and
// connect directly, although the node offers a relay too.
func TestNATEndpointIndependentDirect(t *testing.T) {
	t.Cleanup(calltest.CheckGoroutines(t))
	in := calltest.NewInternet(t, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT}, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	alice, bob := natCall(t, in, srv, calltest.NewNetwork(), nil)
	for _, c := range []struct {
		p    *party
		peer string
	}{{alice, bob.name()}, {bob, alice.name()}} {
		path := pathTo(t, c.p, c.peer)
		t.Logf("%s → %s: %s %s → %s", c.p.name(), c.peer, path, path.LocalAddr, path.RemoteAddr)
		if path.Kind() != "direct" || path.Local == "host" && path.Remote == "host" {
			t.Errorf("%s → %s: path %v, want direct through the NATs' outside addresses", c.p.name(), c.peer, path)
		}
	}
}

// TestNATSymmetricRelayed: behind symmetric NATs the addresses STUN shows
// are no use to the peer; the members connect through the node's relay.
func TestNATSymmetricRelayed(t *testing.T) {
	t.Cleanup(calltest.CheckGoroutines(t))
	in := calltest.NewInternet(t, calltest.LANConfig{NAT: calltest.SymmetricNAT}, calltest.LANConfig{NAT: calltest.SymmetricNAT})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	alice, bob := natCall(t, in, srv, calltest.NewNetwork(), nil)
	path := pathTo(t, alice, bob.name())
	t.Logf("alice → bob: %s %s → %s; relay: %+v", path, path.LocalAddr, path.RemoteAddr, srv.Stats())
	if !path.Relayed() {
		t.Fatalf("path %v, want relayed", path)
	}
	if srv.Stats().RelayedBytes == 0 {
		t.Error("the relay carried nothing")
	}
}

var ipRE = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// TestRelayOnlyHidesAddresses: a relay-only member never sends a host or
// server-reflexive candidate, nor its inside or outside address in any
// form (SDP, candidate, related address), to the other member: every
// signal alice sends bob is opened and read here, as bob would.
func TestRelayOnlyHidesAddresses(t *testing.T) {
	t.Cleanup(calltest.CheckGoroutines(t))
	in := calltest.NewInternet(t, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT}, calltest.LANConfig{NAT: calltest.EndpointIndependentNAT})
	srv := turntest.Start(t, in.WAN, "203.0.113.1", turn.Config{})
	netw := calltest.NewNetwork()
	var (
		mu         sync.Mutex
		sigs       [][]byte
		candidates []string
		sdps       []string
		openErrs   int
	)
	secret := []string{in.LANs[0].IP(1), in.LANs[0].PublicIP}
	var aliceDev *calltest.Device
	netw.Intercept(func(from, _ call.Member, body []byte) []byte {
		if from.UserID != "alice" {
			return body
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ip := range secret {
			if strings.Contains(string(body), ip) {
				t.Errorf("alice's sealed signal carries %s in the clear", ip)
			}
		}
		sigs = append(sigs, append([]byte(nil), body...))
		return body
	})
	alice, bob := natCall(t, in, srv, netw, func(c *call.Config) { c.Reach.RelayOnly = true })
	aliceDev = alice.dev
	mu.Lock()
	for _, body := range sigs {
		s, err := call.OpenSignal(body, calltest.ChainID, calltest.MeetingID, bob.dev.EphKey,
			func(user, device string) (ed25519.PublicKey, bool) {
				return aliceDev.Member.DevicePub, user == "alice" && device == "laptop"
			})
		if err != nil {
			openErrs++
			continue
		}
		switch s.Kind {
		case call.KindCandidate:
			candidates = append(candidates, s.Candidate)
		case call.KindOffer, call.KindAnswer:
			sdps = append(sdps, s.SDP)
		}
	}
	mu.Unlock()
	if openErrs > 0 || len(candidates) == 0 {
		t.Fatalf("%d signals did not open; %d candidates", openErrs, len(candidates))
	}
	for _, c := range candidates {
		t.Logf("alice's candidate: %s", c)
		if !strings.Contains(c, " typ relay") || !strings.Contains(c, " raddr 0.0.0.0 rport 0") {
			t.Errorf("relay-only alice sent a non-relay candidate, or one with its related address: %s", c)
		}
		for _, ip := range ipRE.FindAllString(c, -1) {
			if ip != "203.0.113.1" && ip != "0.0.0.0" {
				t.Errorf("candidate names %s, not the relay: %s", ip, c)
			}
		}
	}
	for _, sdp := range sdps {
		for _, ip := range ipRE.FindAllString(sdp, -1) {
			if ip != "203.0.113.1" && ip != "0.0.0.0" && ip != "127.0.0.1" {
				t.Errorf("alice's SDP names %s", ip)
			}
		}
	}
	path := pathTo(t, alice, bob.name())
	if path.Local != "relay" {
		t.Errorf("alice's path %v, want her end on the relay", path)
	}
	s, _ := bob.statsOf(alice.name())
	for _, ip := range secret {
		if strings.HasPrefix(s.Path.RemoteAddr, ip+":") {
			t.Errorf("bob reaches alice at %s", s.Path.RemoteAddr)
		}
	}
	t.Logf("bob → alice: %s %s → %s", s.Path, s.Path.LocalAddr, s.Path.RemoteAddr)
}
