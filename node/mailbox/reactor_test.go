package mailbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func totals(nodes []*mailboxtest.Node) mailbox.ReactorStats {
	var s mailbox.ReactorStats
	for _, n := range nodes {
		st := n.Reactor.Stats()
		s.Received += st.Received
		s.Accepted += st.Accepted
		s.Duplicates += st.Duplicates
		s.Invalid += st.Invalid
		s.Refused += st.Refused
		s.Forwarded += st.Forwarded
		s.Dropped += st.Dropped
	}
	return s
}

// TestGossipLine posts at A and receives at C in the line A-B-C.
func TestGossipLine(t *testing.T) {
	mailboxtest.CheckGoroutines(t)
	keys := mailboxtest.NewKeys()
	alice := keys.Add("alice", "laptop")
	nodes := mailboxtest.StartNetwork(t, 3, mailboxtest.Line, mailbox.Config{Keys: keys})
	a, b, c := nodes[0], nodes[1], nodes[2]
	r := mailboxtest.NewRecipient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stream, err := r.Subscribe(ctx, c.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := alice.Envelope(r.Hash, meetingA, []byte("sealed"), time.Now())
	if _, err := a.Client.Post(ctx, &mailboxv1.PostRequest{Envelope: e}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stream); !sameEnvelope(got, e) {
		t.Fatal("C's subscriber got another envelope")
	}
	want := map[*mailboxtest.Node]mailbox.ReactorStats{
		a: {Forwarded: 1},
		b: {Received: 1, Accepted: 1, Forwarded: 1},
		c: {Received: 1, Accepted: 1},
	}
	waitFor(t, "the stats settle", func() bool {
		for n, w := range want {
			if n.Reactor.Stats() != w {
				return false
			}
		}
		return true
	})

	// Every node on the way keeps it for its own subscribers.
	late, err := r.Subscribe(ctx, b.Client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, late); !sameEnvelope(got, e) {
		t.Fatal("B did not keep the envelope")
	}

	// Posting it again anywhere is a duplicate and sends nothing.
	for _, n := range nodes {
		resp, err := n.Client.Post(ctx, &mailboxv1.PostRequest{Envelope: e})
		if err != nil || !resp.Duplicate {
			t.Fatalf("repost: %v, duplicate=%v", err, resp.GetDuplicate())
		}
	}
	time.Sleep(100 * time.Millisecond)
	for n, w := range want {
		if got := n.Reactor.Stats(); got != w {
			t.Errorf("after reposts: stats %+v, want %+v", got, w)
		}
	}
}

// TestGossipDuplicatesNotReforwarded posts into a triangle, where every
// envelope reaches two nodes twice: the second copies are dropped, not
// forwarded, and the gossip stops.
func TestGossipDuplicatesNotReforwarded(t *testing.T) {
	mailboxtest.CheckGoroutines(t)
	keys := mailboxtest.NewKeys()
	alice := keys.Add("alice", "laptop")
	nodes := mailboxtest.StartNetwork(t, 3, mailboxtest.Full, mailbox.Config{Keys: keys})
	ctx := context.Background()

	e := alice.Envelope(recipientOf(1), meetingA, []byte("sealed"), time.Now())
	if _, err := nodes[0].Client.Post(ctx, &mailboxv1.PostRequest{Envelope: e}); err != nil {
		t.Fatal(err)
	}
	// A sends to B and C; each stores it and sends it to the other, which
	// drops it. In whatever order: 4 sends, 2 stores, 2 duplicates.
	want := mailbox.ReactorStats{Received: 4, Accepted: 2, Duplicates: 2, Forwarded: 4}
	waitFor(t, "the envelope went round", func() bool { return totals(nodes) == want })
	time.Sleep(200 * time.Millisecond)
	if got := totals(nodes); got != want {
		t.Fatalf("gossip went on: %+v, want %+v", got, want)
	}
	for i, n := range nodes {
		if !n.Store.Has(mailboxv1.ID(e)) {
			t.Errorf("node %d does not hold the envelope", i)
		}
	}
}

// TestGossipBadPeer sends envelopes straight from A's connection to B:
// ones B cannot check against its chain are refused without blame; forged
// ones count against A, which B disconnects after MaxStrikes.
func TestGossipBadPeer(t *testing.T) {
	mailboxtest.CheckGoroutines(t)
	keys := mailboxtest.NewKeys()
	alice := keys.Add("alice", "laptop")
	stranger := mailboxtest.NewKeys().Add("mallory", "laptop")
	nodes := mailboxtest.StartNetwork(t, 2, mailboxtest.Line, mailbox.Config{
		Keys:    keys,
		Reactor: mailbox.ReactorConfig{MaxStrikes: 3},
	})
	a, b := nodes[0], nodes[1]
	peers := a.Switch.Peers().Copy()
	if len(peers) != 1 {
		t.Fatalf("A has %d peers", len(peers))
	}
	toB := peers[0]
	send := func(e *mailboxv1.Envelope) {
		t.Helper()
		if !toB.Send(p2p.Envelope{ChannelID: mailboxv1.ChannelID, Message: &mailboxv1.GossipMessage{Envelope: e}}) {
			t.Fatal("send to B failed")
		}
	}

	for i := range 5 {
		send(stranger.Envelope(recipientOf(1), meetingA, []byte{byte(i)}, time.Now()))
	}
	waitFor(t, "B refused the unknown sender's envelopes", func() bool { return b.Reactor.Stats().Refused == 5 })
	if st := b.Reactor.Stats(); st.Invalid != 0 || b.Reactor.NumPeers() != 1 {
		t.Fatalf("unknown senders counted against the peer: %+v, %d peers", st, b.Reactor.NumPeers())
	}

	for i := range 3 {
		e := alice.Envelope(recipientOf(1), meetingA, []byte{byte(i)}, time.Now())
		e.Sig[0] ^= 1
		send(e)
	}
	waitFor(t, "B disconnected A", func() bool { return b.Reactor.NumPeers() == 0 })
	if st := b.Reactor.Stats(); st.Invalid != 3 || st.Accepted != 0 {
		t.Fatalf("stats %+v, want 3 invalid and nothing accepted", st)
	}
	if n, _ := b.Store.Len(); n != 0 {
		t.Fatalf("B stored %d envelopes from a bad peer", n)
	}
}
