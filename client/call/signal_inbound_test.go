package call_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// sealFrom seals s as from would, signed with key, to the device to.
func sealFrom(t *testing.T, s call.Signal, key ed25519.PrivateKey, to *calltest.Device, chainID string) []byte {
	t.Helper()
	pk, err := ephPublic(to)
	if err != nil {
		t.Fatal(err)
	}
	body, err := call.SealSignal(&s, chainID, key, pk)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func fakeSDP(fingerprint string) string {
	return "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:" + fingerprint + "\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
}

const (
	fpA = "sha-256 AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA"
	fpB = "sha-256 BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB"
)

// TestSignalRefusals sends alice forged, tampered, replayed and
// misaddressed signals and checks each is refused for its reason.
func TestSignalRefusals(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	aliceDev := calltest.NewDevice(t, "alice", "laptop")
	bob := calltest.NewDevice(t, "bob", "phone")
	dave := calltest.NewDevice(t, "dave", "laptop") // never a member
	alice := startParty(t, ctx, aliceDev, vn, netw, false)
	defer alice.stop(t)
	if err := alice.eng.SetEpoch(calltest.NewEpoch(t, 1, aliceDev, bob)); err != nil {
		t.Fatal(err)
	}

	// alice offers to bob, who has no engine: read the offer from his box.
	var offer *call.Signal
	select {
	case in := <-netw.Endpoint(bob.Member).Receive():
		s, err := call.OpenSignal(in.Body, calltest.ChainID, calltest.MeetingID, bob.EphKey,
			func(user, device string) (ed25519.PublicKey, bool) {
				return aliceDev.Member.DevicePub, user == "alice" && device == "laptop"
			})
		if err != nil {
			t.Fatal(err)
		}
		offer = s
	case <-time.After(10 * time.Second):
		t.Fatal("no offer from alice")
	}
	if offer.Kind != call.KindOffer || offer.DTLSFingerprint != alice.eng.Fingerprint() {
		t.Fatalf("alice sent %v with fingerprint %q, want an offer with %q", offer.Kind, offer.DTLSFingerprint, alice.eng.Fingerprint())
	}

	seq := uint64(100)
	from := func(d *calltest.Device, kind call.Kind) call.Signal {
		seq++
		s := call.Signal{
			Kind: kind, FromUser: d.Member.UserID, FromDevice: d.Member.DeviceID,
			ToUser: "alice", ToDevice: "laptop", MeetingID: calltest.MeetingID,
			Epoch: 1, Session: offer.Session, Seq: seq,
		}
		switch kind {
		case call.KindOffer, call.KindAnswer:
			s.SDP, s.DTLSFingerprint = fakeSDP(fpA), fpA
		case call.KindCandidate:
			s.Candidate, s.DTLSFingerprint = "candidate:1 1 udp 2130706431 10.0.0.99 5000 typ host", fpA
		}
		return s
	}
	deliver := func(in call.Inbound) {
		t.Helper()
		if in.FromUser == "" {
			in.FromUser, in.FromDevice = "bob", "phone"
		}
		if err := netw.Deliver(ctx, "alice", "laptop", in); err != nil {
			t.Fatal(err)
		}
	}
	bye := sealFrom(t, from(bob, call.KindBye), bob.DeviceKey, aliceDev, calltest.ChainID)

	for _, tc := range []struct {
		name string
		in   func() []call.Inbound
		want func(*call.SignalStats)
	}{
		{"garbage", func() []call.Inbound {
			return []call.Inbound{{Body: []byte("not a sealed signal")}}
		}, func(s *call.SignalStats) { s.Rejected.OpenFailed++ }},
		{"non-member", func() []call.Inbound {
			return []call.Inbound{{FromUser: "dave", FromDevice: "laptop", Body: sealFrom(t, from(dave, call.KindBye), dave.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.UnknownSender++ }},
		{"member's name, outsider's key", func() []call.Inbound {
			return []call.Inbound{{Body: sealFrom(t, from(bob, call.KindBye), dave.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.BadSignature++ }},
		{"tampered body", func() []call.Inbound {
			b := sealFrom(t, from(bob, call.KindBye), bob.DeviceKey, aliceDev, calltest.ChainID)
			b[len(b)/2] ^= 0x01
			return []call.Inbound{{Body: b}}
		}, func(s *call.SignalStats) { s.Rejected.OpenFailed++ }},
		{"other meeting", func() []call.Inbound {
			s := from(bob, call.KindBye)
			s.MeetingID = []byte("another-meeting!")
			return []call.Inbound{{Body: sealFrom(t, s, bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.OpenFailed++ }},
		{"other chain", func() []call.Inbound {
			return []call.Inbound{{Body: sealFrom(t, from(bob, call.KindBye), bob.DeviceKey, aliceDev, "another-chain")}}
		}, func(s *call.SignalStats) { s.Rejected.OpenFailed++ }},
		{"fingerprint differs from SDP", func() []call.Inbound {
			s := from(bob, call.KindAnswer)
			s.SDP = fakeSDP(fpB)
			return []call.Inbound{{Body: sealFrom(t, s, bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.FingerprintMismatch++ }},
		{"for another device", func() []call.Inbound {
			s := from(bob, call.KindBye)
			s.ToUser = "carol"
			return []call.Inbound{{Body: sealFrom(t, s, bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.Misaddressed++ }},
		{"transport names another sender", func() []call.Inbound {
			return []call.Inbound{{FromUser: "dave", FromDevice: "laptop", Body: sealFrom(t, from(bob, call.KindBye), bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.Misaddressed++ }},
		{"offer from the answering side", func() []call.Inbound {
			return []call.Inbound{{Body: sealFrom(t, from(bob, call.KindOffer), bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.Unexpected++ }},
		{"candidate for an unknown session", func() []call.Inbound {
			s := from(bob, call.KindCandidate)
			_, _ = rand.Read(s.Session[:])
			return []call.Inbound{{Body: sealFrom(t, s, bob.DeviceKey, aliceDev, calltest.ChainID)}}
		}, func(s *call.SignalStats) { s.Rejected.Unexpected++ }},
		{"replayed", func() []call.Inbound {
			return []call.Inbound{{Body: bye}, {Body: bye}}
		}, func(s *call.SignalStats) { s.Accepted++; s.Rejected.Replayed++ }},
	} {
		before := alice.eng.SignalStats()
		ins := tc.in()
		for _, in := range ins {
			deliver(in)
		}
		want := before
		tc.want(&want)
		waitFor(t, 5*time.Second, tc.name, func() bool {
			s := alice.eng.SignalStats()
			return s.Accepted+s.Rejected.Total() >= before.Accepted+before.Rejected.Total()+uint64(len(ins))
		})
		got := alice.eng.SignalStats()
		if got.Accepted != want.Accepted || got.Rejected != want.Rejected {
			t.Errorf("%s: accepted %d, rejected %+v; want %d, %+v", tc.name, got.Accepted, got.Rejected, want.Accepted, want.Rejected)
		}
	}

	// A signal of an epoch before the previous one is stale.
	if err := alice.eng.SetEpoch(calltest.NewEpoch(t, 3, aliceDev, bob)); err != nil {
		t.Fatal(err)
	}
	before := alice.eng.SignalStats()
	deliver(call.Inbound{Body: sealFrom(t, from(bob, call.KindBye), bob.DeviceKey, aliceDev, calltest.ChainID)})
	waitFor(t, 5*time.Second, "stale signal", func() bool { return alice.eng.SignalStats().Rejected.Stale == before.Rejected.Stale+1 })
}

// TestSignalBeforeEpoch: a device that hears from a new member before it
// learns the epoch holds the signal and connects once it does.
func TestSignalBeforeEpoch(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	alice := startParty(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true)
	defer alice.stop(t)
	bob := startParty(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true)
	defer bob.stop(t)
	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	if err := alice.eng.SetEpoch(ep); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // alice's offer and candidates wait at bob
	if s := bob.eng.SignalStats(); s.Accepted != 0 || s.Rejected.Total() != 0 {
		t.Fatalf("bob acted on signals before knowing the epoch: %+v", s)
	}
	if err := bob.eng.SetEpoch(ep); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "media both ways", func() bool {
		return alice.rec.Total(bob.name()) > 10 && bob.rec.Total(alice.name()) > 10
	})
	if s := bob.eng.SignalStats(); s.Rejected.Total() != 0 {
		t.Errorf("bob refused signals: %+v", s.Rejected)
	}
}

// TestReconnectAfterLostOffer: when the mailbox loses the offer, the
// offerer starts a new session after ReconnectTimeout.
func TestReconnectAfterLostOffer(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var lost atomic.Int32
	netw.Intercept(func(from, to call.Member, body []byte) []byte {
		// alice's first signal is her offer: her outbox sends in order.
		if from.UserID == "alice" && lost.CompareAndSwap(0, 1) {
			return nil
		}
		return body
	})
	short := func(c *call.Config) { c.ReconnectTimeout = 500 * time.Millisecond }
	alice := startPartyWith(t, ctx, calltest.NewDevice(t, "alice", "laptop"), vn, netw, true, short)
	defer alice.stop(t)
	bob := startPartyWith(t, ctx, calltest.NewDevice(t, "bob", "phone"), vn, netw, true, short)
	defer bob.stop(t)
	ep := calltest.NewEpoch(t, 1, alice.dev, bob.dev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(ep); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "media both ways", func() bool {
		return alice.rec.Total(bob.name()) > 10 && bob.rec.Total(alice.name()) > 10
	})
	if lost.Load() != 1 {
		t.Fatalf("%d signals dropped, want the first offer", lost.Load())
	}
}
