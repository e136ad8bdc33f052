package sfu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// harness is a running relay and the clients of one meeting.
type harness struct {
	t       *testing.T
	relay   *sfu.Relay
	meeting []byte
}

// newHarness starts a relay on loopback with Run going; mod may change
// its config. Cleanup closes everything and checks for leaked goroutines.
func newHarness(t *testing.T, mod func(*sfu.Config)) *harness {
	t.Helper()
	t.Cleanup(sfutest.CheckGoroutines(t))
	cfg := sfu.Config{SettingEngine: sfutest.LoopbackSettingEngine(), LoggerFactory: sfutest.QuietLoggers()}
	if mod != nil {
		mod(&cfg)
	}
	r, err := sfu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &harness{t: t, relay: r, meeting: []byte("meeting-1")}
}

// join connects a client with opts to the harness's meeting; it is closed
// at cleanup, before the relay.
func (h *harness) join(opts sfutest.Options) *sfutest.Client {
	h.t.Helper()
	c, err := sfutest.NewClient(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sfutest.Join(ctx, h.relay, h.meeting, c); err != nil {
		h.t.Fatalf("%s joins: %v", opts.Member, err)
	}
	return c
}

// eventually polls cond until it holds or timeout passes, then fails with
// its last explanation.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameSet reports whether got's keys are exactly want.
func sameSet(got map[string]int, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if got[w] == 0 {
			return false
		}
	}
	return true
}

func member(i int) string { return fmt.Sprintf("user%d/dev", i) }

// keysOf prints a member count map, for failure messages.
func keysOf(m map[string]int) string { return fmt.Sprint(m) }
