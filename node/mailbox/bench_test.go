package mailbox_test

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/cometbft/cometbft/config"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

// BenchmarkMailboxDelivery measures the latency from a Post at one node to
// the envelope arriving at a subscriber of another, over real CometBFT p2p
// switches on loopback with CometBFT's default p2p config (10 ms flush
// throttle; two-nodes-flush-1ms shortens it), with 1 KiB bodies.
// single-node is the reference: post and subscribe at the same node. One envelope is in flight at a time; ns/op
// includes signing, delivery-ms/p50-ms/p99-ms do not.
func BenchmarkMailboxDelivery(b *testing.B) {
	fast := config.DefaultP2PConfig()
	fast.FlushThrottleTimeout = time.Millisecond
	for _, bc := range []struct {
		name  string
		nodes int
		p2p   *config.P2PConfig
	}{
		{"single-node", 1, nil},
		{"two-nodes", 2, config.DefaultP2PConfig()},
		{"three-nodes-line", 3, config.DefaultP2PConfig()},
		{"two-nodes-flush-1ms", 2, fast},
	} {
		b.Run(bc.name, func(b *testing.B) { benchDelivery(b, bc.nodes, bc.p2p) })
	}
}

func benchDelivery(b *testing.B, n int, p2pCfg *config.P2PConfig) {
	keys := mailboxtest.NewKeys()
	alice := keys.Add("alice", "laptop")
	cfg := mailbox.Config{
		Keys: keys,
		Rate: mailbox.RateConfig{Rate: 1e9, Burst: 1 << 30},
		Store: mailbox.StoreConfig{
			MaxEnvelopes: 1 << 22, MaxBytes: 1 << 40,
			MaxSenderEnvelopes: 1 << 22, MaxSenderBytes: 1 << 40,
		},
	}
	var nodes []*mailboxtest.Node
	if n == 1 {
		nodes = []*mailboxtest.Node{mailboxtest.StartNode(b, cfg)}
	} else {
		nodes = mailboxtest.StartNetworkP2P(b, n, mailboxtest.Line, cfg, p2pCfg)
	}
	from, to := nodes[0], nodes[n-1]
	r := mailboxtest.NewRecipient(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stream, err := r.Subscribe(ctx, to.Client, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	lat := make([]time.Duration, 0, b.N)

	b.ResetTimer()
	for i := range b.N {
		binary.BigEndian.PutUint64(body, uint64(i))
		e := alice.Envelope(r.Hash, meetingA, body, time.Now())
		e.TtlSeconds = mailboxv1.MaxTTLSeconds
		alice.Sign(e)
		start := time.Now()
		if _, err := from.Client.Post(ctx, &mailboxv1.PostRequest{Envelope: e}); err != nil {
			b.Fatal(err)
		}
		got, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if binary.BigEndian.Uint64(got.Body) != uint64(i) {
			b.Fatalf("received envelope %d, want %d", binary.BigEndian.Uint64(got.Body), i)
		}
	}
	b.StopTimer()

	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(sum)/float64(len(lat)), "delivery-ms")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}
