package localnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/parleynet/parley/client/verify"
)

// Options configure Start. The zero value is four validators on free
// ports, with the repository's build/parleyd.
type Options struct {
	// Validators is the number of validators, each with equal stake
	// (default 4).
	Validators int
	// PortBase is the first port: node i listens on PortBase +
	// i*PortStride + {API 17, P2P 56, RPC 57, mailbox 80, gRPC 90}. Zero
	// picks a base whose ports are free (FreePortBase).
	PortBase int
	// Parleyd is the node binary (default <repo>/build/parleyd, which `make
	// build` writes; BuildBinaries builds the working tree instead).
	Parleyd string
	// Home holds the network's state (default a directory in t.TempDir()).
	Home string
	// ChainID defaults to "parley-localnet".
	ChainID string
	// BlockTime is CometBFT's timeout_commit (default 300ms).
	BlockTime time.Duration
	// TimeoutPropose is CometBFT's timeout_propose (default 1s).
	TimeoutPropose time.Duration
}

// Node is one node's addresses and files.
type Node struct {
	Index   int
	Home    string // the node's --home
	RPC     string // CometBFT RPC, "tcp://127.0.0.1:port"
	GRPC    string // the SDK's gRPC server, "127.0.0.1:port"
	Mailbox string // the mailbox gRPC service, "127.0.0.1:port"
	P2P     string // "127.0.0.1:port"
	API     string // REST API address, if enabled in app.toml (it is not by default)
	Log     string // the node's log file
}

// Network is a running network started by Start. Its methods are safe for
// concurrent use; they return errors rather than failing a test, so that
// subtests sharing one network can use them.
type Network struct {
	root, script string
	home         string
	chainID      string
	env          []string // the script's environment
	nodes        []Node

	ops     sync.Mutex // serialises the script's stop, stop-node and start-node
	mu      sync.Mutex // guards stopped and closed
	stopped []bool
	closed  bool
	// reserved are the port bases FreePortBase reserved for this network.
	reserved []int
}

const startAttempts = 3

// Start starts a network through networks/local/localnet-4.sh in a fresh
// home and returns once it has committed a block. t.Cleanup stops it; if
// the test failed, the tail of every node's log is logged first.
func Start(t testing.TB, opts Options) *Network {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("localnet: %v", err)
	}
	if opts.Validators == 0 {
		opts.Validators = 4
	}
	if opts.Validators < 0 {
		t.Fatalf("localnet: Validators = %d", opts.Validators)
	}
	if opts.Parleyd == "" {
		opts.Parleyd = filepath.Join(root, "build", "parleyd")
	}
	if _, err := os.Stat(opts.Parleyd); err != nil {
		t.Fatalf("localnet: no parleyd (%v): run `make build`, or pass BuildBinaries(t).Parleyd", err)
	}
	if opts.Home == "" {
		opts.Home = filepath.Join(t.TempDir(), "net")
	}
	if opts.ChainID == "" {
		opts.ChainID = "parley-localnet"
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 300 * time.Millisecond
	}
	if opts.TimeoutPropose == 0 {
		opts.TimeoutPropose = time.Second
	}
	n := &Network{
		root:    root,
		script:  filepath.Join(root, "networks", "local", "localnet-4.sh"),
		home:    opts.Home,
		chainID: opts.ChainID,
		stopped: make([]bool, opts.Validators),
	}
	t.Cleanup(func() {
		if t.Failed() {
			n.logTails(t)
		}
		if err := n.Stop(); err != nil {
			t.Errorf("localnet: stopping: %v", err)
		}
		// Only once every node is down may another network take the ports.
		n.mu.Lock()
		for _, b := range n.reserved {
			ReleasePortBase(b)
		}
		n.mu.Unlock()
	})

	var out string
	for attempt := 1; ; attempt++ {
		base := opts.PortBase
		if base == 0 {
			if base, err = FreePortBase(opts.Validators); err != nil {
				t.Fatal(err)
			}
			n.mu.Lock()
			n.reserved = append(n.reserved, base)
			n.mu.Unlock()
		}
		n.env = []string{
			"NET4_HOME=" + opts.Home,
			"NET4_VALIDATORS=" + strconv.Itoa(opts.Validators),
			"NET4_PORT_BASE=" + strconv.Itoa(base),
			"NET4_PORT_STRIDE=" + strconv.Itoa(PortStride),
			"PARLEYD=" + opts.Parleyd,
			"CHAIN_ID=" + opts.ChainID,
			"BLOCK_TIME=" + opts.BlockTime.String(),
			"TIMEOUT_PROPOSE=" + opts.TimeoutPropose.String(),
			"NET4_WATCH_PID=" + strconv.Itoa(os.Getpid()),
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		out, err = n.run(ctx, "start")
		cancel()
		if err == nil {
			break
		}
		// A port taken between FreePortBase and the nodes binding it is the
		// likely cause with a picked base: start over on another.
		if opts.PortBase != 0 || attempt == startAttempts {
			n.logTails(t)
			t.Fatalf("localnet: start: %v\n%s", err, out)
		}
		t.Logf("localnet: start on port base %d failed, retrying on another: %v\n%s", base, err, out)
		resetCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if out, err := n.run(resetCtx, "reset"); err != nil {
			cancel()
			t.Fatalf("localnet: reset after a failed start: %v\n%s", err, out)
		}
		cancel()
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	listing, err := n.run(ctx, "nodes")
	if err != nil {
		t.Fatalf("localnet: listing nodes: %v\n%s", err, listing)
	}
	if n.nodes, err = parseNodes(listing); err != nil {
		t.Fatalf("localnet: %v", err)
	}
	if len(n.nodes) != opts.Validators {
		t.Fatalf("localnet: the script lists %d nodes, want %d", len(n.nodes), opts.Validators)
	}
	return n
}

// parseNodes reads the script's `nodes` listing: index, home, RPC, gRPC,
// mailbox, P2P, API, log, separated by tabs.
func parseNodes(listing string) ([]Node, error) {
	var nodes []Node
	sc := bufio.NewScanner(strings.NewReader(listing))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 8 {
			return nil, fmt.Errorf("localnet: unexpected nodes line %q", sc.Text())
		}
		i, err := strconv.Atoi(f[0])
		if err != nil || i != len(nodes) {
			return nil, fmt.Errorf("localnet: unexpected node index in %q", sc.Text())
		}
		nodes = append(nodes, Node{Index: i, Home: f[1], RPC: f[2], GRPC: f[3], Mailbox: f[4], P2P: f[5], API: f[6], Log: f[7]})
	}
	return nodes, sc.Err()
}

// run runs the script with the network's environment and returns its
// combined output.
func (n *Network) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{n.script}, args...)...)
	cmd.Dir = n.root
	cmd.Env = append(os.Environ(), n.env...)
	// The nodes the script leaves running hold none of its output pipes;
	// this bounds the wait should one ever do.
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Stop stops every node (and the script's watchdog). It is idempotent;
// Start registers it with t.Cleanup.
func (n *Network) Stop() error {
	n.ops.Lock()
	defer n.ops.Unlock()
	n.mu.Lock()
	closed := n.closed
	n.closed = true
	n.mu.Unlock()
	// Without an environment the script would act on its default home,
	// which is not this network's.
	if closed || n.env == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := n.run(ctx, "stop")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// StopNode stops node i (SIGTERM, then SIGKILL after 15 s); its data
// directory stays for StartNode.
func (n *Network) StopNode(i int) error {
	return n.nodeCmd(i, "stop-node", true)
}

// StartNode starts node i again from its data directory and returns once
// its RPC server answers; catching up with the others is up to the caller
// to wait for (WaitNodeHeight).
func (n *Network) StartNode(i int) error {
	return n.nodeCmd(i, "start-node", false)
}

func (n *Network) nodeCmd(i int, cmd string, stopped bool) error {
	if i < 0 || i >= len(n.nodes) {
		return fmt.Errorf("localnet: no node %d in a network of %d", i, len(n.nodes))
	}
	n.ops.Lock()
	defer n.ops.Unlock()
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return errors.New("localnet: the network is stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := n.run(ctx, cmd, strconv.Itoa(i))
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		// A failed command leaves the node as it was, as far as we know.
		n.stopped[i] = !stopped
		return fmt.Errorf("localnet: %s %d: %w\n%s", cmd, i, err, out)
	}
	n.stopped[i] = stopped
	return nil
}

// Running reports whether node i is running (as far as this Network's
// StopNode and StartNode know).
func (n *Network) Running(i int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.closed && !n.stopped[i]
}

// Len is the number of nodes (validators).
func (n *Network) Len() int { return len(n.nodes) }

// Node returns node i's addresses and files.
func (n *Network) Node(i int) Node { return n.nodes[i] }

// Nodes returns every node's addresses and files.
func (n *Network) Nodes() []Node { return append([]Node(nil), n.nodes...) }

// Home is the network's state directory.
func (n *Network) Home() string { return n.home }

// ChainID is the network's chain ID.
func (n *Network) ChainID() string { return n.chainID }

// KeyringDir is the shared test keyring's directory (the --keyring-dir of
// parley and parleyd): it holds alice, bob, carol, dave and the validator
// operators val0, val1, ..., each funded at genesis.
func (n *Network) KeyringDir() string { return filepath.Join(n.home, "keyring") }

// NodeList is every node's RPC address, comma-separated, in node order.
func (n *Network) NodeList() string {
	return n.join(func(nd Node) string { return nd.RPC })
}

// MailboxList is every node's mailbox address, comma-separated.
func (n *Network) MailboxList() string {
	return n.join(func(nd Node) string { return nd.Mailbox })
}

func (n *Network) join(f func(Node) string) string {
	s := make([]string, len(n.nodes))
	for i, nd := range n.nodes {
		s[i] = f(nd)
	}
	return strings.Join(s, ",")
}

// Env is the PARLEY_* environment that points the parley client at the
// network, as the script's `env` prints it, in exec.Cmd.Env form.
func (n *Network) Env() []string {
	return []string{
		"PARLEY_NODE=" + n.NodeList(),
		"PARLEY_MAILBOX=" + n.MailboxList(),
		"PARLEY_CHAIN_ID=" + n.chainID,
		"PARLEY_KEYRING_DIR=" + n.KeyringDir(),
		"PARLEY_KEYRING_BACKEND=test",
	}
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// Height is the latest block height node i reports over RPC.
func (n *Network) Height(ctx context.Context, i int) (int64, error) {
	if i < 0 || i >= len(n.nodes) {
		return 0, fmt.Errorf("localnet: no node %d in a network of %d", i, len(n.nodes))
	}
	url := "http://" + strings.TrimPrefix(n.nodes[i].RPC, "tcp://") + "/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("localnet: node %d status: HTTP %s", i, resp.Status)
	}
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("localnet: node %d status: %w", i, err)
	}
	h, err := strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("localnet: node %d status: height %q: %w", i, st.Result.SyncInfo.LatestBlockHeight, err)
	}
	return h, nil
}

// MaxHeight is the highest height any running node reports: the chain's
// height. It fails only when no running node answers.
func (n *Network) MaxHeight(ctx context.Context) (int64, error) {
	best, answered := int64(-1), false
	var errs []error
	for i := range n.nodes {
		if !n.Running(i) {
			continue
		}
		h, err := n.Height(ctx, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		answered = true
		best = max(best, h)
	}
	if !answered {
		return 0, fmt.Errorf("localnet: no running node answered: %w", errors.Join(errs...))
	}
	return best, nil
}

const pollInterval = 100 * time.Millisecond

// WaitHeight waits until some running node reports height h or more.
func (n *Network) WaitHeight(ctx context.Context, h int64) error {
	last, err := int64(-1), error(nil)
	for {
		var got int64
		if got, err = n.MaxHeight(ctx); err == nil {
			last = got
			if got >= h {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localnet: waiting for height %d (last seen %d, last error %v): %w", h, last, err, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// WaitNodeHeight waits until node i reports height h or more.
func (n *Network) WaitNodeHeight(ctx context.Context, i int, h int64) error {
	last, err := int64(-1), error(nil)
	for {
		var got int64
		if got, err = n.Height(ctx, i); err == nil {
			last = got
			if got >= h {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localnet: waiting for node %d to reach height %d (last seen %d, last error %v): %w", i, h, last, err, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Script runs networks/local/localnet-4.sh with this network's
// environment (e.g. "status", "env") and returns its output.
func (n *Network) Script(ctx context.Context, args ...string) (string, error) {
	return n.run(ctx, args...)
}

// logTails logs the last lines of every node's log.
func (n *Network) logTails(t testing.TB) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(n.home, "node*", "parleyd.log"))
	for _, path := range logs {
		bz, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(bz), "\n"), "\n")
		lines = lines[max(0, len(lines)-25):]
		t.Logf("localnet: last lines of %s:\n%s", path, strings.Join(lines, "\n"))
	}
}

// Anchor returns a trust anchor for the network: the header at height 1
// as node 0 serves it (a test trusts the network it started).
func (n *Network) Anchor(ctx context.Context) (verify.Anchor, error) {
	rpc, err := rpchttp.New(n.nodes[0].RPC, "/websocket")
	if err != nil {
		return verify.Anchor{}, err
	}
	h := int64(1)
	res, err := rpc.Commit(ctx, &h)
	if err != nil {
		return verify.Anchor{}, fmt.Errorf("localnet: header 1: %w", err)
	}
	return verify.Anchor{ChainID: n.chainID, Height: h, Hash: res.Hash(), TrustingPeriod: verify.DefaultTrustingPeriod}, nil
}
