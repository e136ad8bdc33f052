package sfu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleynet/parley/node/sfu"
	"github.com/parleynet/parley/node/sfu/sfutest"
)

// mesh is relays of different "nodes" linked by an in-memory transport
// (sfutest.Net), each with Run going, and the clients of one meeting on
// them.
type mesh struct {
	t       *testing.T
	net     *sfutest.Net
	ids     []string
	relays  []*sfu.Relay
	meeting []byte
}

// newMesh starts n relays on loopback, linked. Cleanup closes the
// clients, then the relays, then the transport, and checks for leaked
// goroutines.
func newMesh(t *testing.T, n int) *mesh {
	t.Helper()
	t.Cleanup(sfutest.CheckGoroutines(t))
	ms := &mesh{t: t, net: sfutest.NewNet(), meeting: []byte("meeting-1")}
	t.Cleanup(ms.net.Close)
	for i := range n {
		ms.add(fmt.Sprintf("node%d", i))
	}
	return ms
}

// add starts one more relay on the mesh, as id; it is closed at cleanup.
func (ms *mesh) add(id string) *sfu.Relay {
	ms.t.Helper()
	r, err := sfu.New(sfu.Config{SettingEngine: sfutest.LoopbackSettingEngine(), LoggerFactory: sfutest.QuietLoggers(), Peers: ms.net.Peers(id)})
	if err != nil {
		ms.t.Fatal(err)
	}
	ms.net.Attach(id, r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	ms.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			ms.t.Errorf("Run: %v", err)
		}
	})
	ms.ids = append(ms.ids, id)
	ms.relays = append(ms.relays, r)
	return r
}

// join connects a client with opts to relay i; it is closed at cleanup,
// before the relays.
func (ms *mesh) join(i int, opts sfutest.Options) *sfutest.Client {
	ms.t.Helper()
	c, err := sfutest.NewClient(opts)
	if err != nil {
		ms.t.Fatal(err)
	}
	ms.t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sfutest.Join(ctx, ms.relays[i], ms.meeting, c); err != nil {
		ms.t.Fatalf("%s joins relay %d: %v", opts.Member, i, err)
	}
	return c
}

// noRefusals fails if an honest relay's message was refused.
func (ms *mesh) noRefusals() {
	ms.t.Helper()
	if errs := ms.net.Refusals(); len(errs) > 0 {
		ms.t.Errorf("%d peer messages refused between honest relays, the first: %v", len(errs), errs[0])
	}
}

// others lists every member but self.
func others(all []string, self string) []string {
	var out []string
	for _, m := range all {
		if m != self {
			out = append(out, m)
		}
	}
	return out
}

// checkIntactNeverOwn fails if c got a packet since start without a tag,
// with an altered payload, or of its own.
func checkIntactNeverOwn(t *testing.T, c *sfutest.Client, start time.Time) {
	t.Helper()
	for _, p := range c.Packets("r", start) {
		tag, ok := p.Tag()
		if !ok {
			t.Fatalf("%s got a packet on %s without a tag", c.Member, p.Mid)
		}
		if tag.Member == c.Member {
			t.Fatalf("%s got its own %s on %s", c.Member, tag.Kind, p.Mid)
		}
		video := p.Mid[1] != 'a'
		body := p.Payload
		if video {
			body = p.Body
		}
		if !sfutest.Intact(body, video) {
			t.Fatalf("%s: payload from %s on %s altered", c.Member, tag.Member, p.Mid)
		}
	}
}
