//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/parleynet/parley/internal/localnet"
)

// BenchmarkThroughput measures how many transactions per second a real
// network of parleyd processes commits when it is handed them as fast as it
// accepts them: bank MsgSend (the reference), MsgRequestJoin and
// MsgCommitEpoch, on one validator and on four. Each sub-benchmark starts
// its own network and sets up (not measured) N funded accounts, the
// devices and the meetings; then, for each kind, every account signs one
// tx offline with its explicit account number and sequence, tpWorkers
// goroutines broadcast them all in sync mode (not waiting for blocks), and
// the rate is read off the block timestamps once every one is committed
// (tpSpan.rate). Every tx must succeed, at CheckTx and in its block, or
// the benchmark fails.
//
// One tx per account and kind, rather than runs of sequences from a few
// accounts: on four validators a node can add two txs of one account that
// reach it from different peers to its mempool in the wrong order (the
// CometBFT mempool adds a checked tx in a callback run outside the app's
// lock, so two peers' goroutines race), and when that node proposes, the
// later sequence fails in the block and the account's remaining txs are
// evicted at recheck, on every node. With one tx per account in flight
// nothing depends on mempool order. For the same reason each measured
// commit goes to its own meeting (N meetings, each at epoch 1 after the
// set-up, committing epoch 2 with the same roster, signed by its leader
// over the epoch number): consecutive epochs of one meeting in flight at
// once would depend on it.
//
// One run is one measurement, whatever b.N (ns/op is the wall time of the
// three measured rounds, signing included); run it with -benchtime 1x:
//
//	go test -tags bench -run xxx -bench Throughput -benchtime 1x -timeout 20m ./bench/
func BenchmarkThroughput(b *testing.B) {
	bin := localnet.BuildBinaries(b)
	for _, validators := range []int{1, 4} {
		b.Run(fmt.Sprintf("validators=%d", validators), func(b *testing.B) {
			tpRun(b, bin.Parleyd, validators)
		})
	}
}

const (
	// tpDefaultN is N, the number of txs per kind and of paying accounts,
	// unless PARLEY_BENCH_TP_N says otherwise. 600 txs fill about three
	// blocks on either network on a 2-core machine, so block boundaries
	// quantise a rate to roughly a third; a larger N narrows that at the
	// cost of set-up time (2000 takes about 3.5 minutes for both networks).
	tpDefaultN = 600
	// tpPerJoinMeeting requests go to each join meeting (the pending
	// limit is 256 per meeting).
	tpPerJoinMeeting = 150
	// tpMembers is each commit meeting's roster: its leader and
	// tpMembers-1 admitted members.
	tpMembers = 4
	// tpWorkers goroutines broadcast; account a's tx goes to node
	// a mod validators.
	tpWorkers = 8
	// tpBlockTime is the localnet default timeout_commit, passed explicitly
	// so that the figure reported is the one used.
	tpBlockTime = 300 * time.Millisecond
	// tpBudget bounds one sub-benchmark after the network has started.
	tpBudget = 6 * time.Minute
)

// tpTxsPerKind is N: tpDefaultN or PARLEY_BENCH_TP_N.
func tpTxsPerKind(b *testing.B) int {
	v := os.Getenv("PARLEY_BENCH_TP_N")
	if v == "" {
		return tpDefaultN
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 10 {
		b.Fatalf("PARLEY_BENCH_TP_N=%q: want a number of txs per kind, at least 10", v)
	}
	return n
}

func tpRun(b *testing.B, parleyd string, validators int) {
	b.StopTimer()
	n := tpTxsPerKind(b)
	began := time.Now()
	net := localnet.Start(b, localnet.Options{Parleyd: parleyd, Validators: validators, BlockTime: tpBlockTime})
	started := time.Since(began)
	ctx, cancel := context.WithTimeout(context.Background(), tpBudget)
	defer cancel()
	env := tpSetUp(ctx, b, net, n)
	setUp := time.Since(began) - started

	b.StartTimer()
	bank := env.measure(ctx, b, "bank MsgSend", env.bankMsgs)
	join := env.measure(ctx, b, "MsgRequestJoin", env.joinMsgs)
	commit := env.measure(ctx, b, "MsgCommitEpoch", env.commitMsgs)
	b.StopTimer()

	b.ReportMetric(bank.rate(), "bank-tx/s")
	b.ReportMetric(join.rate(), "join-tx/s")
	b.ReportMetric(commit.rate(), "commit-tx/s")
	b.ReportMetric(join.rate()/bank.rate(), "join/bank")
	b.ReportMetric(commit.rate()/bank.rate(), "commit/bank")
	b.ReportMetric(float64(tpBlockTime.Milliseconds()), "block-ms")
	b.ReportMetric(float64(n), "txs/kind")
	b.Logf("throughput validators=%d: bank %.1f tx/s, RequestJoin %.1f tx/s (%.2f×), CommitEpoch %.1f tx/s (%.2f×), "+
		"block time %v, N=%d per kind (one tx per account), commit roster %d members",
		validators, bank.rate(), join.rate(), join.rate()/bank.rate(), commit.rate(), commit.rate()/bank.rate(),
		tpBlockTime, n, tpMembers)
	for _, s := range []tpSpan{bank, join, commit} {
		b.Logf("  %s", s)
	}
	b.Logf("  network start %v, set-up %v (%d accounts, %d users, %d meetings), whole sub-benchmark %v",
		started.Round(100*time.Millisecond), setUp.Round(100*time.Millisecond), len(env.accounts), env.users,
		len(env.joinMeetings)+len(env.commitMeetings), time.Since(began).Round(100*time.Millisecond))
}
