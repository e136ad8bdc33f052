package call_test

import (
	"context"
	"crypto/hpke"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/sframe"
)

// party is one running engine of a test call.
type party struct {
	dev  *calltest.Device
	eng  *call.Engine
	rec  *calltest.Recorder
	done chan error
}

func (p *party) name() string { return p.dev.Member.String() }

// startParty runs an engine for dev on vn and netw, sending the test clips
// (or nothing, when clips is false) and recording what it receives.
func startParty(t *testing.T, ctx context.Context, dev *calltest.Device, vn *calltest.VNet, netw *calltest.Network, clips bool) *party {
	t.Helper()
	return startPartyWith(t, ctx, dev, vn, netw, clips, nil)
}

// startPartyWith is startParty with mod applied to the config last.
func startPartyWith(t *testing.T, ctx context.Context, dev *calltest.Device, vn *calltest.VNet, netw *calltest.Network, clips bool, mod func(*call.Config)) *party {
	t.Helper()
	cfg := dev.Config(netw.Endpoint(dev.Member))
	cfg.SettingEngine = vn.SettingEngine(t)
	if clips {
		video, err := call.NewIVFSource("testdata/clip.ivf")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = video.Close() })
		audio, err := call.NewOggSource("testdata/clip.ogg")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = audio.Close() })
		cfg.Video, cfg.Audio = video, audio
	}
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
	return p
}

// stop closes the engine and checks that Run returned nil.
func (p *party) stop(t *testing.T) {
	t.Helper()
	if err := p.eng.Close(); err != nil {
		t.Errorf("%s: Close: %v", p.name(), err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("%s: Run: %v", p.name(), err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: Run did not return after Close", p.name())
	}
}

// statsOf returns p's stats for the peer named "user/device".
func (p *party) statsOf(peer string) (call.PeerStats, bool) {
	for _, s := range p.eng.Stats() {
		if s.UserID+"/"+s.DeviceID == peer {
			return s, true
		}
	}
	return call.PeerStats{}, false
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kidOf returns the SFrame KID of an encrypted frame of kind.
func kidOf(kind call.MediaKind, frame []byte) (uint64, bool) {
	codec := sframe.CodecVP8
	if kind == call.Audio {
		codec = sframe.CodecOpus
	}
	p := codec.PrefixLen(frame)
	if len(frame) <= p {
		return 0, false
	}
	h, _, err := sframe.ParseHeader(frame[p:])
	return h.KID, err == nil
}

func ephPublic(d *calltest.Device) (hpke.PublicKey, error) {
	return keyschedule.ParseEphemeralPublicKey(d.Member.EphPub)
}
