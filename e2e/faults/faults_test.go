package faults

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/localnet"
)

// TestFaults runs a call on four validators (real parleyd processes on
// loopback) and kills nodes under it, in one sequence on one network:
//
//  1. one of four validators stops during a 3-party call: blocks go on, a
//     join and a removal with rekey complete, the call goes on;
//  2. the node a client uses stops: the client moves to another node, and
//     the key envelope sealed to it while its node was down still arrives;
//  3. two of four stop: the chain halts, clients say so, the call stays on
//     its epoch; a transaction sent during the halt is reported pending
//     with its hash, not lost; after a restart it commits, and the removal
//     asked during the halt completes;
//
// (a validator restarted from its data directory catching up is
// internal/localnet's TestFourValidators.)
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validators and a call")
	}
	bin := localnet.BuildBinaries(t)
	net := localnet.Start(t, localnet.Options{Validators: 4, Parleyd: bin.Parleyd})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := net.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}

	// Each party starts on a different node.
	alice := newParty(t, net, 0, "alice", "alice", "laptop")
	bob := newParty(t, net, 1, "bob", "bob", "phone")
	carol := newParty(t, net, 2, "carol", "carol", "desk")
	dave := newParty(t, net, 3, "dave", "dave", "tablet")

	id, _, err := meeting.Create(ctx, alice.chain, alice.eph, alice.dev, meeting.CreateOptions{Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	alice.join(t, ctx, id)
	for _, p := range []*party{bob, carol} {
		p.waitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, p.chain, p.eph, p.dev, id, nil); err != nil {
			t.Fatalf("%s's request: %v", p.name(), err)
		}
		p.join(t, ctx, id)
	}
	e := allHear(t, 60*time.Second, "alice, bob and carol to decrypt each other", 0, alice, bob, carol)
	t.Logf("3-party call up in epoch %d", e)

	// Each step restarts what it stopped even when it fails, and a failed
	// step ends the sequence: the next ones assume a whole network.
	restart := func(t *testing.T, nodes ...int) {
		for _, i := range nodes {
			if err := net.StartNode(i); err != nil {
				t.Errorf("restart node %d: %v", i, err)
			}
		}
	}
	ok := t.Run("one of four validators stopped", func(t *testing.T) {
		if err := net.StopNode(3); err != nil {
			t.Fatal(err)
		}
		defer restart(t, 3)
		h := height(t, ctx, alice.chain)
		waitFor(t, 20*time.Second, "blocks with a validator down", func() bool { return height(t, ctx, alice.chain) >= h+3 })

		// dave's first node is the stopped one: he fails over to join.
		dave.waitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, dave.chain, dave.eph, dave.dev, id, nil); err != nil {
			t.Fatalf("dave's request with node 3 down: %v", err)
		}
		dave.join(t, ctx, id)
		e4 := allHear(t, 60*time.Second, "all four to decrypt each other", e, alice, bob, carol, dave)
		if dave.chain.Node() == net.Node(3).RPC {
			t.Errorf("dave's chain client still names the stopped node %s", dave.chain.Node())
		}

		alice.p.Session().Remove(carol.user, carol.device)
		waitFor(t, 30*time.Second, "the epoch without carol", func() bool {
			return alice.epoch() > e4 && bob.epoch() > e4 && dave.epoch() > e4
		})
		select {
		case err := <-carol.done:
			if !isRemoved(err) {
				t.Fatalf("carol's call ended with %v, want removal", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("carol was not removed")
		}
		e3 := allHear(t, 30*time.Second, "alice, bob and dave to go on without carol", e4, alice, bob, dave)
		for _, p := range []*party{alice, bob, dave} {
			if n := carol.frames(p, e3); n != 0 {
				t.Errorf("carol decrypted %d frames of %s in epoch %d, after her removal", n, p.name(), e3)
			}
		}
	})
	if !ok {
		return
	}

	ok = t.Run("the client's node stopped", func(t *testing.T) {
		// bob's chain and mailbox are on node 1.
		if bob.chain.Node() != net.Node(1).RPC {
			t.Fatalf("bob's chain client is on %s, want node 1", bob.chain.Node())
		}
		if err := net.StopNode(1); err != nil {
			t.Fatal(err)
		}
		defer restart(t, 1)
		before := alice.epoch()
		// A rekey while bob's node is down: alice seals bob's key to the
		// mailbox (her node 0 stores and gossips it); bob must fetch it
		// from another node.
		alice.p.Session().Rotate()
		waitFor(t, 30*time.Second, "the rotation to be committed", func() bool { return alice.epoch() > before })
		allHear(t, 40*time.Second, "bob to get the rotated key through another node", before, alice, bob, dave)
		if bob.chain.Node() == net.Node(1).RPC {
			t.Errorf("bob's chain client still names the stopped node")
		}
	})
	if !ok {
		return
	}

	t.Run("two of four stopped: the chain halts", func(t *testing.T) {
		if err := net.StopNode(2); err != nil {
			t.Fatal(err)
		}
		if err := net.StopNode(3); err != nil {
			t.Fatal(err)
		}
		restarted := false
		defer func() {
			if !restarted {
				restart(t, 2, 3)
			}
		}()
		waitFor(t, 30*time.Second, "alice's client to report the halt", func() bool {
			st, err := alice.chain.Status(ctx)
			return err == nil && st.Halted
		})
		epoch := alice.epoch()

		// A transaction sent now cannot commit; its sender is told so,
		// with the hash to follow it by.
		payer, err := chain.New(chain.Config{Nodes: []string{net.Node(0).RPC, net.Node(1).RPC}, ChainID: net.ChainID(),
			KeyringDir: net.KeyringDir(), KeyringBackend: "test", From: "carol", HaltAfter: 4 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		from, _ := sdk.AccAddressFromBech32(payer.Account())
		to, _ := sdk.AccAddressFromBech32(alice.chain.Account())
		_, err = payer.Broadcast(ctx, banktypes.NewMsgSend(from, to, sdk.NewCoins(sdk.NewCoin("uparley", sdkmath.NewInt(7)))))
		var pending *chain.PendingTxError
		if !errors.As(err, &pending) || !errors.Is(err, chain.ErrChainHalted) {
			t.Fatalf("a send during the halt returned %v, want a PendingTxError wrapping ErrChainHalted", err)
		}
		t.Logf("during the halt: %v", err)

		// The leader asks for a removal: it cannot commit yet.
		alice.p.Session().Remove(dave.user, dave.device)

		// The call goes on, on its epoch.
		a, b := alice.frames(bob, epoch), bob.frames(alice, epoch)
		time.Sleep(3 * time.Second)
		if alice.epoch() != epoch || bob.epoch() != epoch {
			t.Errorf("epochs moved during the halt: alice %d bob %d, was %d", alice.epoch(), bob.epoch(), epoch)
		}
		if alice.frames(bob, epoch) <= a || bob.frames(alice, epoch) <= b {
			t.Errorf("the call stopped during the halt")
		}

		restarted = true
		restart(t, 2, 3)
		waitFor(t, 60*time.Second, "blocks after the restart", func() bool {
			st, err := alice.chain.Status(ctx)
			return err == nil && !st.Halted
		})
		var st chain.TxStatus
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err = payer.TxStatus(ctx, pending.Hash)
			if err == nil && st.State != chain.TxPending && st.State != chain.TxUnknown {
				break
			}
			if time.Now().After(deadline) {
				h, _ := alice.chain.Height(ctx)
				t.Fatalf("the send from during the halt is still %v (%v) at height %d", st.State, err, h)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if st.State != chain.TxCommitted {
			t.Errorf("the send from during the halt: %v (%v), want committed", st.State, st.Err)
		}
		select {
		case err := <-dave.done:
			if !isRemoved(err) {
				t.Fatalf("dave's call ended with %v, want removal", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the removal asked during the halt did not complete after the restart")
		}
		allHear(t, 60*time.Second, "alice and bob to go on without dave", epoch, alice, bob)
	})
}

func height(t *testing.T, ctx context.Context, c *verify.Client) int64 {
	t.Helper()
	h, err := c.Height(ctx)
	if err != nil {
		t.Fatalf("height: %v", err)
	}
	return h
}
