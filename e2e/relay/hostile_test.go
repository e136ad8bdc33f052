package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// member is one device of an in-process call on an in-process relay.
type member struct {
	dev *calltest.Device
	eng *call.Engine
	rec *calltest.Recorder
}

func (m *member) ref() ids.DeviceRef {
	return ids.DeviceRef{User: m.dev.Member.UserID, Device: m.dev.Member.DeviceID}
}

// stats returns what m's engine knows of the member other.
func (m *member) stats(other *member) call.PeerStats {
	for _, s := range m.eng.Stats() {
		if s.UserID == other.dev.Member.UserID && s.DeviceID == other.dev.Member.DeviceID {
			return s
		}
	}
	return call.PeerStats{}
}

// setup is what a test changes of relayCall's call.
type setup struct {
	// Relay's Tamper and Estimate hooks (sfu.Config), optional.
	tamper   func(from, to ids.DeviceRef, kind string, pkt *rtp.Packet) []*rtp.Packet
	estimate func(member ids.DeviceRef) int
	// video, optional, makes a member's camera source; nil, or nil from
	// it: synthetic, 100 kbit/s at 15 frames a second.
	video func(name string) (call.Source, error)
	// sinks, optional, gives a member's sinks in place of its recorder's
	// (which it is given, to pass frames on to).
	sinks func(name string, rec call.SinkFactory) call.SinkFactory
}

// relayCall runs the devices' engines on one in-process relay with the
// given hooks, every roster on the relay (MeshLimit 1), and returns the
// members and the epoch's meeting key.
func relayCall(t *testing.T, s setup, names ...string) ([]*member, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	relay, err := sfu.New(sfu.Config{SettingEngine: sfutest.LoopbackSettingEngine(), LoggerFactory: sfutest.QuietLoggers(), Tamper: s.tamper, Estimate: s.estimate})
	if err != nil {
		t.Fatal(err)
	}
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); _ = relay.Run(ctx) }()
	net := calltest.NewNetwork()
	var ms []*member
	var devs []*calltest.Device
	for _, n := range names {
		d := calltest.NewDevice(t, n, "dev")
		devs = append(devs, d)
		ms = append(ms, &member{dev: d, rec: calltest.NewRecorder()})
	}
	ep := calltest.NewEpoch(t, 1, devs...)
	key := bytes.Clone(ep.Key)
	var wg sync.WaitGroup
	for _, m := range ms {
		cfg := m.dev.Config(net.Endpoint(m.dev.Member))
		cfg.SettingEngine = call.LoopbackSettingEngine()
		cfg.Sinks = m.rec.Sinks()
		if s.sinks != nil {
			cfg.Sinks = s.sinks(m.dev.Member.UserID, cfg.Sinks)
		}
		cfg.MeshLimit = 1
		cfg.MediaRelay = func(ctx context.Context, offer, _ string) (string, string, error) {
			answer, err := relay.Join(ctx, sfu.JoinRequest{MeetingID: calltest.MeetingID, User: m.dev.Member.UserID, Device: m.dev.Member.DeviceID, OfferSDP: offer})
			return answer, "in-process", err
		}
		var err error
		if s.video != nil {
			if cfg.Video, err = s.video(m.dev.Member.UserID); err != nil {
				t.Fatal(err)
			}
		}
		if cfg.Video == nil {
			if cfg.Video, err = call.NewSyntheticSource(call.Video, 100_000, 15); err != nil {
				t.Fatal(err)
			}
		}
		if cfg.Audio, err = call.NewSyntheticSource(call.Audio, 32_000, 50); err != nil {
			t.Fatal(err)
		}
		if m.eng, err = call.NewEngine(cfg); err != nil {
			t.Fatal(err)
		}
		e := ep
		e.Key = bytes.Clone(key)
		if err := m.eng.SetEpoch(e); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = m.eng.Run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		<-relayDone
		_ = relay.Close()
	})
	return ms, key
}

// waitUntil waits up to d for cond.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRelayThatAltersOrReplays: a relay that flips a byte of some frames
// and sends other frames again (with fresh RTP numbers, so that nothing
// below SFrame can tell) has every altered frame refused by SFrame's tag
// and every replay by its counter window; nothing altered or replayed
// reaches a sink, the honest members are not cut, and their media go on.
func TestRelayThatAltersOrReplays(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay and three engines")
	}
	var mu sync.Mutex
	var n int
	old := map[ids.DeviceRef]*rtp.Packet{}
	offset := map[uint32]uint16{} // per slot SSRC: packets the relay inserted
	var altered, replayed atomic.Int64
	tamper := func(from, to ids.DeviceRef, kind string, pkt *rtp.Packet) []*rtp.Packet {
		mu.Lock()
		defer mu.Unlock()
		out := *pkt
		out.SequenceNumber += offset[pkt.SSRC]
		if kind != "audio" || to.User != "bob" {
			return []*rtp.Packet{&out}
		}
		n++
		switch {
		case n%10 == 0:
			out.Payload = bytes.Clone(pkt.Payload)
			out.Payload[len(out.Payload)-1] ^= 0x01 // the tag
			altered.Add(1)
		case n%10 == 5 && old[from] != nil:
			again := *old[from]
			again.Payload = bytes.Clone(old[from].Payload)
			again.SSRC = pkt.SSRC
			again.SequenceNumber = out.SequenceNumber
			again.Timestamp = pkt.Timestamp
			offset[pkt.SSRC]++
			out.SequenceNumber++
			replayed.Add(1)
			return []*rtp.Packet{&again, &out}
		case n%10 == 3:
			keep := *pkt
			keep.Payload = bytes.Clone(pkt.Payload)
			old[from] = &keep
		}
		return []*rtp.Packet{&out}
	}
	ms, _ := relayCall(t, setup{tamper: tamper}, "alice", "bob", "carol")
	alice, bob, carol := ms[0], ms[1], ms[2]
	waitUntil(t, 60*time.Second, "bob to refuse altered and replayed frames of alice and carol", func() bool {
		a, c := bob.stats(alice), bob.stats(carol)
		return a.Rejected.AuthFailed > 0 && c.Rejected.AuthFailed > 0 && a.Rejected.Replayed+c.Rejected.Replayed > 0 &&
			bob.rec.Frames("alice/dev", call.Audio, 1) > 100 && bob.rec.Frames("carol/dev", call.Audio, 1) > 100
	})
	if altered.Load() == 0 || replayed.Load() == 0 {
		t.Fatalf("the relay altered %d and replayed %d frames", altered.Load(), replayed.Load())
	}
	if d := bob.rec.Duplicates(); d != 0 {
		t.Errorf("bob's sinks got %d frames twice", d)
	}
	rs := bob.eng.Relay()
	if sg := rs.Signatures; sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 || sg.Verified == 0 {
		t.Errorf("a tampering relay got an honest member cut, or nothing was verified: %+v", sg)
	}
	for _, o := range []*member{alice, carol} {
		s := bob.stats(o)
		t.Logf("bob from %s: decrypted %d, rejected %+v", o.dev.Member, s.FramesDecrypted, s.Rejected)
		if s.Rejected.Unsigned != 0 {
			t.Errorf("bob cut %s's frames: %+v", o.dev.Member, s.Rejected)
		}
	}
	// alice, whose audio the relay leaves alone, refuses nothing.
	for _, o := range []*member{bob, carol} {
		if s := alice.stats(o); s.Rejected.Total() != 0 || s.FramesDecrypted == 0 {
			t.Errorf("alice from %s: decrypted %d, rejected %+v", o.dev.Member, s.FramesDecrypted, s.Rejected)
		}
	}
}

// TestMemberRelabelsAnothersKID: mallory, a member who holds the group
// key, and the relay work together: the relay replaces mallory's audio to
// bob with frames mallory sealed under alice's KID. They decrypt (the key
// is the group's), but alice never signed them: bob cuts the frames under
// alice's KID and counts them, and mallory's own signatures cannot cover
// them. carol, whom the relay serves honestly, keeps hearing alice.
func TestMemberRelabelsAnothersKID(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay and three engines")
	}
	var key []byte
	var forger *sframe.Sender
	var mu sync.Mutex
	var forged atomic.Int64
	tamper := func(from, to ids.DeviceRef, kind string, pkt *rtp.Packet) []*rtp.Packet {
		out := *pkt
		if kind != "audio" || from.User != "mallory" || to.User != "bob" {
			return []*rtp.Packet{&out}
		}
		mu.Lock()
		defer mu.Unlock()
		if forger == nil {
			return []*rtp.Packet{&out}
		}
		frame := make([]byte, 80)
		frame[0] = 0xfc // Opus TOC: CELT 20 ms
		_, _ = rand.Read(frame[1:])
		sealed, err := forger.Encrypt(nil, sframe.CodecOpus, frame)
		if err != nil {
			return []*rtp.Packet{&out}
		}
		out.Payload = sealed
		forged.Add(1)
		return []*rtp.Packet{&out}
	}
	ms, k := relayCall(t, setup{tamper: tamper}, "alice", "bob", "carol", "mallory")
	alice, bob, carol := ms[0], ms[1], ms[2]
	key = k
	// mallory derives alice's sender key from the group key: alice is
	// index 0 of epoch 1. Her counters run from 0 as alice's do: a forged
	// frame that reaches bob first takes the counter (alice's own frame
	// under it is then a replay), and alice's signature over that counter
	// proves the frame forged.
	s, err := sframe.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEpoch(1, key, 0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	forger = s
	mu.Unlock()
	waitUntil(t, 60*time.Second, "bob to cut the frames under alice's KID", func() bool {
		return bob.stats(alice).Rejected.Unsigned > 0
	})
	// From the cut on, nothing under alice's KID reaches bob's sinks.
	cutAt := bob.rec.Frames("alice/dev", call.Audio, 1)
	time.Sleep(500 * time.Millisecond)
	if n := bob.rec.Frames("alice/dev", call.Audio, 1); n != cutAt {
		t.Errorf("bob's sink got %d frames under alice's KID after the cut", n-cutAt)
	}
	if forged.Load() == 0 {
		t.Fatal("no frame was forged")
	}
	rs := bob.eng.Relay()
	if sg := rs.Signatures; sg.CutUnsigned+sg.CutForged == 0 {
		t.Errorf("bob's verifier cut nobody: %+v", sg)
	}
	t.Logf("bob: %d forged frames sent; alice's stats at bob %+v; signatures %+v", forged.Load(), bob.stats(alice).Rejected, rs.Signatures)
	// carol is served honestly: she keeps decrypting alice and cuts no one.
	before := carol.rec.Frames("alice/dev", call.Audio, 1)
	time.Sleep(time.Second)
	if after := carol.rec.Frames("alice/dev", call.Audio, 1); after <= before {
		t.Errorf("carol stopped hearing alice (%d, then %d frames)", before, after)
	}
	if sg := carol.eng.Relay().Signatures; sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 {
		t.Errorf("carol cut someone: %+v", sg)
	}
}

// TestEpochChangesCutNobody: epochs follow each other every few hundred
// milliseconds (members joining one after another) while everyone sends
// through the relay: every frame's signature still arrives, so no honest
// member is cut.
func TestEpochChangesCutNobody(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay and five engines")
	}
	ms, _ := relayCall(t, setup{}, "alice", "bob", "carol", "dave", "erin")
	waitUntil(t, 30*time.Second, "everyone on the relay", func() bool {
		for _, m := range ms {
			if m.eng.Relay().State != "connected" {
				return false
			}
		}
		return true
	})
	var devs []*calltest.Device
	for _, m := range ms {
		devs = append(devs, m.dev)
	}
	for n := uint64(2); n <= 8; n++ {
		ep := calltest.NewEpoch(t, n, devs...)
		for _, m := range ms {
			e := ep
			e.Key = bytes.Clone(ep.Key)
			if err := m.eng.SetEpoch(e); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(400 * time.Millisecond)
	}
	time.Sleep(4 * time.Second) // past sigMissingAfter
	for _, m := range ms {
		rs := m.eng.Relay()
		if sg := rs.Signatures; sg.CutForged+sg.CutUnsigned+sg.CutEquivocated != 0 || sg.Verified == 0 {
			t.Errorf("%s: signatures %+v, cuts %q", m.dev.Member, sg, rs.Cuts)
		}
	}
}
