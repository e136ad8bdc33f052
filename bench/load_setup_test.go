//go:build bench

package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/localnet"
)

// loadFundAccounts adds n accounts to the network's test keyring and funds
// each from alice in one transaction, so that every device of the load
// pays from its own account and none waits on another's sequence.
func loadFundAccounts(ctx context.Context, ln *latNet, n int) ([]string, error) {
	enc, err := chain.NewEncoding()
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, ln.KeyringDir(), nil, enc.Codec)
	if err != nil {
		return nil, err
	}
	rec, err := kr.Key("alice")
	if err != nil {
		return nil, err
	}
	from, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	names := make([]string, n)
	msgs := make([]sdk.Msg, n)
	for i := range n {
		names[i] = fmt.Sprintf("loadacct%03d", i)
		rec, _, err := kr.NewMnemonic(names[i], keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		if err != nil {
			return nil, err
		}
		to, err := rec.GetAddress()
		if err != nil {
			return nil, err
		}
		msgs[i] = banktypes.NewMsgSend(from, to, sdk.NewCoins(sdk.NewInt64Coin("uparley", 1_000_000_000)))
	}
	alice, err := latOpen(verify.Config{
		Chain: chain.Config{Nodes: ln.rpcs, ChainID: ln.ChainID(), KeyringDir: ln.KeyringDir(), KeyringBackend: "test", From: "alice"},
		State: verify.State{Anchor: ln.anchor},
	})
	if err != nil {
		return nil, err
	}
	if _, err := alice.Broadcast(ctx, msgs...); err != nil {
		return nil, err
	}
	return names, nil
}

// loadRegisterAll registers every party's device, loadRegister at a time.
func loadRegisterAll(ctx context.Context, parties []*latParty) error {
	work := make(chan *latParty)
	errs := make(chan error, loadRegister)
	var wg sync.WaitGroup
	for range loadRegister {
		wg.Go(func() {
			for p := range work {
				if err := p.register(ctx); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, p := range parties {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// loadPID is the node's process ID, from the pid file the localnet script
// writes in the node's home.
func loadPID(n localnet.Node) (int, error) {
	bz, err := os.ReadFile(filepath.Join(n.Home, "parleyd.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(bz)))
}

// loadRSS is a process's resident set size in KiB (VmRSS).
func loadRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// loadCPU is the CPU time (user and system) a process has used, from
// /proc/<pid>/stat, counted in clock ticks of 1/100 s (USER_HZ on Linux).
func loadCPU(pid int) (time.Duration, error) {
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses: state is
	// field 3 of stat(5), utime 14, stime 15.
	i := strings.LastIndexByte(string(bz), ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(bz[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// loadSampler samples a process's VmRSS every loadRSSEvery.
type loadSampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  int64
	n     int
}

func loadSampleRSS(pid int) *loadSampler {
	s := &loadSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(loadRSSEvery)
		defer t.Stop()
		for {
			if kb, err := loadRSS(pid); err == nil {
				s.peak, s.n = max(s.peak, kb), s.n+1
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak (KiB) and the sample count.
func (s *loadSampler) stop() (int64, int) {
	close(s.stopc)
	<-s.done
	return s.peak, s.n
}
