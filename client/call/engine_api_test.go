package call_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/call/calltest"
)

func TestNewEngineConfig(t *testing.T) {
	dev := calltest.NewDevice(t, "alice", "laptop")
	netw := calltest.NewNetwork()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name string
		mod  func(*call.Config)
	}{
		{"no user", func(c *call.Config) { c.UserID = "" }},
		{"no device key", func(c *call.Config) { c.DeviceKey = nil }},
		{"ECDSA device key", func(c *call.Config) { c.DeviceKey = ec }},
		{"no ephemeral key", func(c *call.Config) { c.EphemeralKey = nil }},
		{"no chain", func(c *call.Config) { c.ChainID = "" }},
		{"short meeting ID", func(c *call.Config) { c.MeetingID = []byte("short") }},
		{"no transport", func(c *call.Config) { c.Transport = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := dev.Config(netw.Endpoint(dev.Member))
			tc.mod(&cfg)
			if _, err := call.NewEngine(cfg); !errors.Is(err, call.ErrInvalidConfig) {
				t.Fatalf("NewEngine: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestSetEpochErrors(t *testing.T) {
	alice := calltest.NewDevice(t, "alice", "laptop")
	bob := calltest.NewDevice(t, "bob", "phone")
	eng, err := call.NewEngine(alice.Config(calltest.NewNetwork().Endpoint(alice.Member)))
	if err != nil {
		t.Fatal(err)
	}
	many := []*calltest.Device{alice}
	for range call.MaxMembers {
		many = append(many, bob)
	}
	for _, tc := range []struct {
		name string
		ep   func() call.Epoch
		want error
	}{
		{"epoch 0", func() call.Epoch { return calltest.NewEpoch(t, 0, alice, bob) }, call.ErrInvalidEpoch},
		{"no members", func() call.Epoch { return calltest.NewEpoch(t, 1) }, call.ErrInvalidEpoch},
		{"too many members", func() call.Epoch { return calltest.NewEpoch(t, 1, many...) }, call.ErrInvalidEpoch},
		{"duplicate member", func() call.Epoch { return calltest.NewEpoch(t, 1, alice, bob, bob) }, call.ErrInvalidEpoch},
		{"short key", func() call.Epoch { e := calltest.NewEpoch(t, 1, alice, bob); e.Key = e.Key[:16]; return e }, call.ErrInvalidEpoch},
		{"bad device key", func() call.Epoch {
			e := calltest.NewEpoch(t, 1, alice, bob)
			e.Members[1].DevicePub = e.Members[1].DevicePub[:31]
			return e
		}, call.ErrInvalidEpoch},
		{"bad ephemeral key", func() call.Epoch {
			e := calltest.NewEpoch(t, 1, alice, bob)
			e.Members[1].EphPub = e.Members[1].EphPub[:100]
			return e
		}, call.ErrInvalidEpoch},
		{"without this device", func() call.Epoch { return calltest.NewEpoch(t, 1, bob) }, call.ErrNotInRoster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := eng.SetEpoch(tc.ep()); !errors.Is(err, tc.want) {
				t.Fatalf("SetEpoch: %v, want %v", err, tc.want)
			}
		})
	}
	if err := eng.SetEpoch(calltest.NewEpoch(t, 5, alice, bob)); err != nil {
		t.Fatal(err)
	}
	if eng.Epoch() != 5 {
		t.Errorf("Epoch() = %d, want 5", eng.Epoch())
	}
	if err := eng.SetEpoch(calltest.NewEpoch(t, 5, alice, bob)); !errors.Is(err, call.ErrStaleEpoch) {
		t.Errorf("same epoch again: %v, want ErrStaleEpoch", err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := eng.SetEpoch(calltest.NewEpoch(t, 6, alice, bob)); !errors.Is(err, call.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if err := eng.Run(context.Background()); !errors.Is(err, call.ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
}

func TestRunLifecycle(t *testing.T) {
	defer calltest.CheckGoroutines(t)()
	alice := calltest.NewDevice(t, "alice", "laptop")
	vn := calltest.NewVNet(t)
	defer func() { _ = vn.Close() }()
	cfg := alice.Config(calltest.NewNetwork().Endpoint(alice.Member))
	cfg.SettingEngine = vn.SettingEngine(t)
	eng, err := call.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetEpoch(calltest.NewEpoch(t, 1, alice)); err != nil { // a call of one
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	waitFor(t, 5*time.Second, "Run to start", func() bool { return eng.Stats() != nil })
	if err := eng.Run(ctx); !errors.Is(err, call.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if err := eng.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
}
