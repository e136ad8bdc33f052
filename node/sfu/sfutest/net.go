package sfutest

import (
	"slices"
	"sync"

	"github.com/parleynet/parley/node/sfu"
)

// pipeQueue is how many messages wait between two relays; beyond it Send
// reports false, as a full p2p channel does.
const pipeQueue = 4096

// maxRefusals bounds the refusals Net keeps.
const maxRefusals = 1000

// PeerHandler is what Net delivers to: a relay.
type PeerHandler interface {
	HandlePeer(from string, msg []byte) error
	PeerGone(from string)
}

// Net is an in-memory transport between relays, standing in for
// parleyd's CometBFT reactor: a relay's Config.Peers is Peers(id), and
// Attach makes it reachable. Messages from one relay to another arrive
// in order, on a goroutine of that pair, as a p2p channel delivers them.
// Detach is a node going away: the others get PeerGone. Close stops
// every goroutine.
type Net struct {
	mu       sync.Mutex
	closed   bool
	nodes    map[string]PeerHandler
	pipes    map[[2]string]*pipe
	refusals []error
	wg       sync.WaitGroup
}

type pipe struct {
	q    chan []byte
	stop chan struct{}
	done chan struct{}
}

// NewNet makes an empty network.
func NewNet() *Net {
	return &Net{nodes: map[string]PeerHandler{}, pipes: map[[2]string]*pipe{}}
}

// Peers is the transport of the relay that will be attached as id.
func (n *Net) Peers(id string) sfu.Peers { return netPeers{n: n, id: id} }

// Attach makes h reachable as id.
func (n *Net) Attach(id string, h PeerHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.nodes[id] = h
	}
}

// Detach takes id off the network: messages to and from it stop (those
// queued are dropped), then every other relay is told PeerGone(id).
func (n *Net) Detach(id string) {
	n.mu.Lock()
	delete(n.nodes, id)
	var stopped []*pipe
	for k, p := range n.pipes {
		if k[0] == id || k[1] == id {
			close(p.stop)
			stopped = append(stopped, p)
			delete(n.pipes, k)
		}
	}
	others := make([]PeerHandler, 0, len(n.nodes))
	for _, h := range n.nodes {
		others = append(others, h)
	}
	n.mu.Unlock()
	for _, p := range stopped {
		<-p.done
	}
	for _, h := range others {
		h.PeerGone(id)
	}
}

// Close stops every pipe and waits for them.
func (n *Net) Close() {
	n.mu.Lock()
	n.closed = true
	for k, p := range n.pipes {
		close(p.stop)
		delete(n.pipes, k)
	}
	n.nodes = map[string]PeerHandler{}
	n.mu.Unlock()
	n.wg.Wait()
}

// Refusals returns the errors relays returned from HandlePeer: honest
// relays cause none.
func (n *Net) Refusals() []error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.refusals)
}

// send queues msg from one relay to another.
func (n *Net) send(from, to string, msg []byte) bool {
	n.mu.Lock()
	h := n.nodes[to]
	if n.closed || h == nil || n.nodes[from] == nil || from == to {
		n.mu.Unlock()
		return false
	}
	k := [2]string{from, to}
	p := n.pipes[k]
	if p == nil {
		p = &pipe{q: make(chan []byte, pipeQueue), stop: make(chan struct{}), done: make(chan struct{})}
		n.pipes[k] = p
		n.wg.Add(1)
		go n.deliver(from, h, p)
	}
	n.mu.Unlock()
	select {
	case p.q <- slices.Clone(msg):
		return true
	default:
		return false
	}
}

func (n *Net) deliver(from string, h PeerHandler, p *pipe) {
	defer n.wg.Done()
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case msg := <-p.q:
			if err := h.HandlePeer(from, msg); err != nil {
				n.mu.Lock()
				if len(n.refusals) < maxRefusals {
					n.refusals = append(n.refusals, err)
				}
				n.mu.Unlock()
			}
		}
	}
}

func (n *Net) broadcast(from string, msg []byte) {
	n.mu.Lock()
	ids := make([]string, 0, len(n.nodes))
	for id := range n.nodes {
		if id != from {
			ids = append(ids, id)
		}
	}
	n.mu.Unlock()
	for _, id := range ids {
		n.send(from, id, msg)
	}
}

type netPeers struct {
	n  *Net
	id string
}

func (p netPeers) Send(peer string, msg []byte) bool { return p.n.send(p.id, peer, msg) }
func (p netPeers) Broadcast(msg []byte)              { p.n.broadcast(p.id, msg) }
