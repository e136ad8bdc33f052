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
	"github.com/parleynet/parley/e2e/party"
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
	alice := party.New(t, net, 0, "alice", "alice", "laptop")
	bob := party.New(t, net, 1, "bob", "bob", "phone")
	carol := party.New(t, net, 2, "carol", "carol", "desk")
	dave := party.New(t, net, 3, "dave", "dave", "tablet")

	id, _, err := meeting.Create(ctx, alice.Chain, alice.Eph, alice.Dev, meeting.CreateOptions{Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	alice.Join(t, ctx, id)
	for _, p := range []*party.Party{bob, carol} {
		p.WaitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, p.Chain, p.Eph, p.Dev, id, nil); err != nil {
			t.Fatalf("%s's request: %v", p.Name(), err)
		}
		p.Join(t, ctx, id)
	}
	e := party.AllHear(t, 60*time.Second, "alice, bob and carol to decrypt each other", 0, alice, bob, carol)
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
		h := height(t, ctx, alice.Chain)
		party.WaitFor(t, 20*time.Second, "blocks with a validator down", func() bool { return height(t, ctx, alice.Chain) >= h+3 })

		// dave's first node is the stopped one: he fails over to join.
		dave.WaitMeeting(t, ctx, id)
		if _, err := meeting.Request(ctx, dave.Chain, dave.Eph, dave.Dev, id, nil); err != nil {
			t.Fatalf("dave's request with node 3 down: %v", err)
		}
		dave.Join(t, ctx, id)
		e4 := party.AllHear(t, 60*time.Second, "all four to decrypt each other", e, alice, bob, carol, dave)
		if dave.Chain.Node() == net.Node(3).RPC {
			t.Errorf("dave's chain client still names the stopped node %s", dave.Chain.Node())
		}

		alice.P.Session().Remove(carol.User, carol.Device)
		party.WaitFor(t, 30*time.Second, "the epoch without carol", func() bool {
			return alice.Epoch() > e4 && bob.Epoch() > e4 && dave.Epoch() > e4
		})
		select {
		case err := <-carol.Done:
			if !party.IsRemoved(err) {
				t.Fatalf("carol's call ended with %v, want removal", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("carol was not removed")
		}
		e3 := party.AllHear(t, 30*time.Second, "alice, bob and dave to go on without carol", e4, alice, bob, dave)
		for _, p := range []*party.Party{alice, bob, dave} {
			if n := carol.Frames(p, e3); n != 0 {
				t.Errorf("carol decrypted %d frames of %s in epoch %d, after her removal", n, p.Name(), e3)
			}
		}
	})
	if !ok {
		return
	}

	ok = t.Run("the client's node stopped", func(t *testing.T) {
		// bob's chain and mailbox are on node 1.
		if bob.Chain.Node() != net.Node(1).RPC {
			t.Fatalf("bob's chain client is on %s, want node 1", bob.Chain.Node())
		}
		if err := net.StopNode(1); err != nil {
			t.Fatal(err)
		}
		defer restart(t, 1)
		before := alice.Epoch()
		// A rekey while bob's node is down: alice seals bob's key to the
		// mailbox (her node 0 stores and gossips it); bob must fetch it
		// from another node.
		alice.P.Session().Rotate()
		party.WaitFor(t, 30*time.Second, "the rotation to be committed", func() bool { return alice.Epoch() > before })
		party.AllHear(t, 40*time.Second, "bob to get the rotated key through another node", before, alice, bob, dave)
		if bob.Chain.Node() == net.Node(1).RPC {
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
		party.WaitFor(t, 30*time.Second, "alice's client to report the halt", func() bool {
			st, err := alice.Chain.Status(ctx)
			return err == nil && st.Halted
		})
		epoch := alice.Epoch()

		// A transaction sent now cannot commit; its sender is told so,
		// with the hash to follow it by.
		payer, err := chain.New(chain.Config{Nodes: []string{net.Node(0).RPC, net.Node(1).RPC}, ChainID: net.ChainID(),
			KeyringDir: net.KeyringDir(), KeyringBackend: "test", From: "carol", HaltAfter: 4 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		from, _ := sdk.AccAddressFromBech32(payer.Account())
		to, _ := sdk.AccAddressFromBech32(alice.Chain.Account())
		_, err = payer.Broadcast(ctx, banktypes.NewMsgSend(from, to, sdk.NewCoins(sdk.NewCoin("uparley", sdkmath.NewInt(7)))))
		var pending *chain.PendingTxError
		if !errors.As(err, &pending) || !errors.Is(err, chain.ErrChainHalted) {
			t.Fatalf("a send during the halt returned %v, want a PendingTxError wrapping ErrChainHalted", err)
		}
		t.Logf("during the halt: %v", err)

		// The leader asks for a removal: it cannot commit yet.
		alice.P.Session().Remove(dave.User, dave.Device)

		// The call goes on, on its epoch.
		a, b := alice.Frames(bob, epoch), bob.Frames(alice, epoch)
		time.Sleep(3 * time.Second)
		if alice.Epoch() != epoch || bob.Epoch() != epoch {
			t.Errorf("epochs moved during the halt: alice %d bob %d, was %d", alice.Epoch(), bob.Epoch(), epoch)
		}
		if alice.Frames(bob, epoch) <= a || bob.Frames(alice, epoch) <= b {
			t.Errorf("the call stopped during the halt")
		}

		restarted = true
		restart(t, 2, 3)
		party.WaitFor(t, 60*time.Second, "blocks after the restart", func() bool {
			st, err := alice.Chain.Status(ctx)
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
				h, _ := alice.Chain.Height(ctx)
				t.Fatalf("the send from during the halt is still %v (%v) at height %d", st.State, err, h)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if st.State != chain.TxCommitted {
			t.Errorf("the send from during the halt: %v (%v), want committed", st.State, st.Err)
		}
		select {
		case err := <-dave.Done:
			if !party.IsRemoved(err) {
				t.Fatalf("dave's call ended with %v, want removal", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the removal asked during the halt did not complete after the restart")
		}
		party.AllHear(t, 60*time.Second, "alice and bob to go on without dave", epoch, alice, bob)
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
