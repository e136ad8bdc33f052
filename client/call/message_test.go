package call_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

// inbox records the in-call messages an engine hands up.
type inbox struct {
	mu   sync.Mutex
	msgs []call.Message
}

func (b *inbox) on(m call.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
}

// from returns the bodies received from user/device.
func (b *inbox) from(user, device string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.From.User == user && m.From.Device == device {
			out = append(out, string(m.Body))
		}
	}
	return out
}

func has(bodies []string, want string) bool {
	for _, b := range bodies {
		if b == want {
			return true
		}
	}
	return false
}

// TestMessages: an in-call message reaches every member with its
// authenticated sender. Who tries and fails: an outsider and a member
// each sending under another member's name (refused: the signature is
// checked with the roster's key of the named sender), a member flooding
// the others (cut to its rate, the rest counted), and a removed member
// (sent nothing after its removal, and what it sends is refused).
func TestMessages(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	netw := calltest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	aliceDev, bobDev, carolDev := calltest.NewDevice(t, "alice", "laptop"), calltest.NewDevice(t, "bob", "phone"), calltest.NewDevice(t, "carol", "tablet")
	dave := calltest.NewDevice(t, "dave", "laptop") // never a member
	boxes := map[string]*inbox{"alice": {}, "bob": {}, "carol": {}}
	start := func(d *calltest.Device) *party {
		return startPartyWith(t, ctx, d, vn, netw, false, func(c *call.Config) { c.OnMessage = boxes[d.Member.UserID].on })
	}
	alice, bob, carol := start(aliceDev), start(bobDev), start(carolDev)
	defer alice.stop(t)
	defer bob.stop(t)
	defer carol.stop(t)
	one := calltest.NewEpoch(t, 1, aliceDev, bobDev, carolDev)
	for _, p := range []*party{alice, bob, carol} {
		if err := p.eng.SetEpoch(one); err != nil {
			t.Fatal(err)
		}
	}

	if err := alice.eng.SendMessage([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "bob and carol to get alice's message", func() bool {
		return has(boxes["bob"].from("alice", "laptop"), "hello") && has(boxes["carol"].from("alice", "laptop"), "hello")
	})
	if err := alice.eng.SendMessage(nil); err == nil {
		t.Error("an empty message was taken")
	}
	if err := alice.eng.SendMessage(make([]byte, call.MaxMessageLen+1)); err == nil {
		t.Error("an oversized message was taken")
	}

	// Under bob's name: signed by dave (an outsider), then by carol (a member).
	seq := uint64(1000)
	var session call.SessionID
	session[0] = 7
	message := func(body string) call.Signal {
		seq++
		return call.Signal{Kind: call.KindMessage, FromUser: "bob", FromDevice: "phone", ToUser: "alice", ToDevice: "laptop",
			MeetingID: calltest.MeetingID, Epoch: 1, Session: session, Seq: seq, Message: body}
	}
	before := alice.eng.SignalStats()
	for _, key := range []struct {
		who  string
		body []byte
	}{
		{"dave", sealFrom(t, message("from dave as bob"), dave.DeviceKey, aliceDev, calltest.ChainID)},
		{"carol", sealFrom(t, message("from carol as bob"), carolDev.DeviceKey, aliceDev, calltest.ChainID)},
	} {
		if err := netw.Deliver(ctx, "alice", "laptop", call.Inbound{Body: key.body}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "alice to refuse both", func() bool {
		return alice.eng.SignalStats().Rejected.BadSignature >= before.Rejected.BadSignature+2
	})
	if got := boxes["alice"].from("bob", "phone"); has(got, "from dave as bob") || has(got, "from carol as bob") {
		t.Fatalf("alice took a message under bob's name that bob did not sign: %q", got)
	}

	// bob floods alice: 200 messages at once, signed by bob.
	const flood = 200
	before = alice.eng.SignalStats()
	for range flood {
		if err := netw.Deliver(ctx, "alice", "laptop", call.Inbound{Body: sealFrom(t, message("flood"), bobDev.DeviceKey, aliceDev, calltest.ChainID)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "alice to take or drop the whole flood", func() bool {
		s := alice.eng.SignalStats()
		return s.Accepted+s.Rejected.Total() >= before.Accepted+before.Rejected.Total()+flood
	})
	took := 0
	for _, b := range boxes["alice"].from("bob", "phone") {
		if b == "flood" {
			took++
		}
	}
	dropped := alice.eng.SignalStats().MessagesDropped - before.MessagesDropped
	if took > 30 || took == 0 || dropped < flood-30 {
		t.Fatalf("of a flood of %d, alice took %d and dropped %d; want at most a burst taken and the rest dropped", flood, took, dropped)
	}

	// carol is removed: alice and bob move to epoch 2 without her.
	two := calltest.NewEpoch(t, 2, aliceDev, bobDev)
	for _, p := range []*party{alice, bob} {
		if err := p.eng.SetEpoch(two); err != nil {
			t.Fatal(err)
		}
	}
	before = alice.eng.SignalStats()
	if err := carol.eng.SendMessage([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "alice to refuse carol's message", func() bool {
		return alice.eng.SignalStats().Rejected.UnknownSender > before.Rejected.UnknownSender
	})
	if err := alice.eng.SendMessage([]byte("after")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "bob to get alice's message of epoch 2", func() bool {
		return has(boxes["bob"].from("alice", "laptop"), "after")
	})
	if has(boxes["alice"].from("carol", "tablet"), "still here") || has(boxes["bob"].from("carol", "tablet"), "still here") {
		t.Error("a removed member's message was taken")
	}
	if has(boxes["carol"].from("alice", "laptop"), "after") {
		t.Error("a removed member got a message of the epoch without her")
	}
}
