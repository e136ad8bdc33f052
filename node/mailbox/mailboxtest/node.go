package mailboxtest

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/version"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/node/mailbox"
)

// Node is a running mailbox served over gRPC on loopback, with a client
// connected to it.
type Node struct {
	*mailbox.Mailbox
	// Addr is the host:port of the gRPC service.
	Addr string
	// Client is connected to Addr.
	Client mailboxv1.MailboxClient
	// Switch carries the node's reactor in a network; nil for StartNode.
	Switch *p2p.Switch
	// P2PAddr is the switch's address, for DialPeerWithAddress.
	P2PAddr *p2p.NetAddress
}

// StartNode assembles a mailbox from cfg (ChainID defaults to ChainID;
// Keys is required), runs it and serves it on 127.0.0.1:0. The test's
// Cleanup stops it.
func StartNode(tb testing.TB, cfg mailbox.Config) *Node {
	tb.Helper()
	if cfg.ChainID == "" {
		cfg.ChainID = ChainID
	}
	if cfg.Keys == nil {
		tb.Fatal("mailboxtest: Config.Keys is required")
	}
	mb, err := mailbox.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		_ = lis.Close()
		tb.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var serveErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = mb.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		serveErr = mb.Serve(ctx, lis)
	}()
	tb.Cleanup(func() {
		_ = conn.Close()
		cancel()
		wg.Wait()
		if serveErr != nil {
			tb.Errorf("mailboxtest: serving %s: %v", lis.Addr(), serveErr)
		}
	})
	return &Node{Mailbox: mb, Addr: lis.Addr().String(), Client: mailboxv1.NewMailboxClient(conn)}
}

// Topology says whether nodes i < j of a network are connected.
type Topology func(i, j int) bool

// Line connects each node to the next: 0-1-2-...
func Line(i, j int) bool { return j == i+1 }

// Full connects every pair of nodes.
func Full(int, int) bool { return true }

// StartNetwork starts n mailboxes sharing cfg, each with its reactor on a
// real CometBFT p2p switch listening on loopback with CometBFT's default
// p2p config, connected as topology says, and waits until every connection
// is up. The test's Cleanup stops it all, listeners included.
func StartNetwork(tb testing.TB, n int, topology Topology, cfg mailbox.Config) []*Node {
	tb.Helper()
	return StartNetworkP2P(tb, n, topology, cfg, config.DefaultP2PConfig())
}

// StartNetworkP2P is StartNetwork with the given p2p config (for example a
// shorter FlushThrottleTimeout).
func StartNetworkP2P(tb testing.TB, n int, topology Topology, cfg mailbox.Config, p2pCfg *config.P2PConfig) []*Node {
	tb.Helper()
	if cfg.ChainID == "" {
		cfg.ChainID = ChainID
	}
	nodes := make([]*Node, n)
	want := make([]int, n)
	for i := range nodes {
		nodes[i] = StartNode(tb, cfg)
		nodes[i].Switch, nodes[i].P2PAddr = startSwitch(tb, i, cfg.ChainID, nodes[i].Reactor, p2pCfg)
	}
	for i := range nodes {
		for j := i + 1; j < n; j++ {
			if !topology(i, j) {
				continue
			}
			want[i]++
			want[j]++
			if err := nodes[j].Switch.DialPeerWithAddress(nodes[i].P2PAddr); err != nil {
				tb.Fatalf("mailboxtest: node %d dialling node %d: %v", j, i, err)
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for i, nd := range nodes {
		for nd.Reactor.NumPeers() != want[i] {
			if time.Now().After(deadline) {
				tb.Fatalf("mailboxtest: node %d has %d peers, want %d", i, nd.Reactor.NumPeers(), want[i])
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nodes
}

// startSwitch builds what p2p.MakeSwitch builds, but keeps the transport so
// that Cleanup can close its listener: MakeSwitch's switches leak their
// accept goroutines.
func startSwitch(tb testing.TB, i int, network string, reactor p2p.Reactor, p2pCfg *config.P2PConfig) (*p2p.Switch, *p2p.NetAddress) {
	tb.Helper()
	cfg := *p2pCfg
	cfg.AllowDuplicateIP = true
	nodeKey := p2p.NodeKey{PrivKey: ed25519.GenPrivKey()}
	var (
		transport *p2p.MultiplexTransport
		addr      *p2p.NetAddress
		err       error
	)
	// The port is picked by listening and closing; another process may
	// take it in between, so try a few.
	for range 5 {
		var ni p2p.DefaultNodeInfo
		ni, addr, err = nodeInfo(nodeKey.ID(), i, network)
		if err != nil {
			continue
		}
		transport = p2p.NewMultiplexTransport(ni, nodeKey, p2p.MConnConfig(&cfg))
		if err = transport.Listen(*addr); err == nil {
			sw := p2p.NewSwitch(&cfg, transport)
			sw.SetLogger(log.NewNopLogger())
			sw.SetNodeKey(&nodeKey)
			sw.SetNodeInfo(ni)
			sw.AddReactor(mailbox.ReactorName, reactor)
			if err := sw.Start(); err != nil {
				_ = transport.Close()
				tb.Fatal(err)
			}
			tb.Cleanup(func() {
				_ = sw.Stop()
				_ = transport.Close()
			})
			return sw, addr
		}
	}
	tb.Fatalf("mailboxtest: switch %d: %v", i, err)
	return nil, nil
}

func nodeInfo(id p2p.ID, i int, network string) (p2p.DefaultNodeInfo, *p2p.NetAddress, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return p2p.DefaultNodeInfo{}, nil, err
	}
	listen := lis.Addr().String()
	_ = lis.Close()
	ni := p2p.DefaultNodeInfo{
		ProtocolVersion: p2p.NewProtocolVersion(version.P2PProtocol, version.BlockProtocol, 0),
		DefaultNodeID:   id,
		ListenAddr:      listen,
		Network:         network,
		Version:         "mailboxtest",
		Channels:        []byte{mailboxv1.ChannelID},
		Moniker:         fmt.Sprintf("node%d", i),
		Other:           p2p.DefaultNodeInfoOther{TxIndex: "off"},
	}
	addr, err := p2p.NewNetAddressString(p2p.IDAddressString(id, listen))
	return ni, addr, err
}

// CheckGoroutines fails the test if, once the test's other Cleanups have
// run, more goroutines are left than when it was called. Call it first.
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("leaked goroutines: %d before the test, %d after:\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
