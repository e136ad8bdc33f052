package localnet_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleynet/parley/internal/localnet"
)

// Generous: the package runs in `make test` on a 2-core machine next to
// other packages' tests. Only progress and halts are asserted, never speed.
const waitTimeout = 90 * time.Second

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestFourValidators drives one four-validator network through a fault
// sequence: a third of the validators' power may fail, a half may not, and
// a restarted validator catches up from its own data directory. The
// subtests run in order on the shared network; a failed step ends the run.
func TestFourValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("builds parleyd and runs four nodes")
	}
	bin := localnet.BuildBinaries(t)
	net := localnet.Start(t, localnet.Options{Parleyd: bin.Parleyd})

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"addresses and env", func(t *testing.T) {
			if net.Len() != 4 {
				t.Fatalf("Len = %d, want 4", net.Len())
			}
			seen := map[string]bool{}
			for i := 0; i < net.Len(); i++ {
				nd := net.Node(i)
				for _, a := range []string{strings.TrimPrefix(nd.RPC, "tcp://"), nd.GRPC, nd.Mailbox, nd.P2P} {
					if !strings.HasPrefix(a, "127.0.0.1:") || seen[a] {
						t.Errorf("node %d: address %q is not a distinct loopback address", i, a)
					}
					seen[a] = true
				}
			}
			if got := strings.Count(net.NodeList(), ","); got != 3 {
				t.Errorf("NodeList %q: want 4 entries", net.NodeList())
			}
			// Env is what the script's `env` prints.
			out, err := net.Script(waitCtx(t), "env")
			if err != nil {
				t.Fatalf("env: %v\n%s", err, out)
			}
			var printed []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				printed = append(printed, strings.TrimPrefix(l, "export "))
			}
			if want := net.Env(); !slices.Equal(printed, want) {
				t.Errorf("script env\n%q\nwant\n%q", printed, want)
			}
		}},
		{"blocks advance", func(t *testing.T) {
			ctx := waitCtx(t)
			h := mustHeight(t, ctx, net)
			if err := net.WaitHeight(ctx, h+3); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < net.Len(); i++ {
				if err := net.WaitNodeHeight(ctx, i, h+3); err != nil {
					t.Error(err)
				}
			}
		}},
		{"one of four down: blocks keep coming", func(t *testing.T) {
			ctx := waitCtx(t)
			if err := net.StopNode(3); err != nil {
				t.Fatal(err)
			}
			h := mustHeight(t, ctx, net)
			if err := net.WaitHeight(ctx, h+3); err != nil {
				t.Fatal(err)
			}
		}},
		{"two of four down: the chain halts", func(t *testing.T) {
			ctx := waitCtx(t)
			if err := net.StopNode(2); err != nil {
				t.Fatal(err)
			}
			// A block whose precommits were already out may still commit.
			time.Sleep(2 * time.Second)
			h1 := mustHeight(t, ctx, net)
			time.Sleep(5 * time.Second)
			if h2 := mustHeight(t, ctx, net); h2 != h1 {
				t.Fatalf("height went from %d to %d with half the voting power down", h1, h2)
			}
		}},
		{"both back: the chain resumes", func(t *testing.T) {
			ctx := waitCtx(t)
			h := mustHeight(t, ctx, net)
			for _, i := range []int{2, 3} {
				if err := net.StartNode(i); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < net.Len(); i++ {
				if err := net.WaitNodeHeight(ctx, i, h+2); err != nil {
					t.Error(err)
				}
			}
		}},
		{"a restarted validator catches up", func(t *testing.T) {
			ctx := waitCtx(t)
			if err := net.StopNode(1); err != nil {
				t.Fatal(err)
			}
			h := mustHeight(t, ctx, net)
			if err := net.WaitHeight(ctx, h+5); err != nil {
				t.Fatal(err)
			}
			target := mustHeight(t, ctx, net)
			if err := net.StartNode(1); err != nil {
				t.Fatal(err)
			}
			if err := net.WaitNodeHeight(ctx, 1, target); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return
		}
	}
}

// TestOneValidator starts the one-validator variant that benchmarks
// compare with four.
func TestOneValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds parleyd and runs a node")
	}
	bin := localnet.BuildBinaries(t)
	net := localnet.Start(t, localnet.Options{Parleyd: bin.Parleyd, Validators: 1})
	if net.Len() != 1 || strings.Contains(net.NodeList(), ",") || strings.Contains(net.MailboxList(), ",") {
		t.Fatalf("one validator: Len %d, NodeList %q, MailboxList %q", net.Len(), net.NodeList(), net.MailboxList())
	}
	ctx := waitCtx(t)
	h := mustHeight(t, ctx, net)
	if err := net.WaitHeight(ctx, h+2); err != nil {
		t.Fatal(err)
	}
	if err := net.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Height(ctx, 0); err == nil {
		t.Error("node 0 still answers after Stop")
	}
}

func mustHeight(t *testing.T, ctx context.Context, net *localnet.Network) int64 {
	t.Helper()
	h, err := net.MaxHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
