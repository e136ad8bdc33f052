package node

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cometbft/cometbft/p2p"

	cascadev1 "github.com/parleynet/parley/api/cascade/v1"
	"github.com/parleynet/parley/node/sfu"
)

// CascadeReactorName is the cascade reactor's name in CometBFT's switch.
const CascadeReactorName = "MEDIARELAY"

// Bounds of the cascade reactor.
const (
	// cascadeQueue is how many messages may wait for one peer on the
	// channel; past it Send reports false (the relay's announces repeat,
	// and an offer or answer not sent times out and is made again).
	cascadeQueue = 1024
	// cascadeMaxStrikes: a peer whose messages the relay finds malformed
	// this many times is disconnected.
	cascadeMaxStrikes = 10
	cascadeStrikesKey = "cascade.strikes"
)

// peerHandler is what the reactor hands peers' messages to: the relay.
type peerHandler interface {
	HandlePeer(from string, msg []byte) error
	PeerGone(from string)
}

// cascadeReactor carries the media relays' cascade (node/sfu doc.go,
// "Cascade") between nodes on CometBFT's p2p channel cascadev1.ChannelID.
// It is the relay's sfu.Peers: peers are CometBFT peers, named by their
// node ID, which the p2p handshake authenticates. It reads nothing in the
// messages it carries: the relay checks them.
type cascadeReactor struct {
	p2p.BaseReactor

	mu      sync.Mutex
	handler peerHandler
	peers   map[p2p.ID]p2p.Peer
}

var _ sfu.Peers = (*cascadeReactor)(nil)

func newCascadeReactor() *cascadeReactor {
	r := &cascadeReactor{peers: map[p2p.ID]p2p.Peer{}}
	r.BaseReactor = *p2p.NewBaseReactor("MediaRelayCascade", r)
	return r
}

// setHandler makes h the receiver of peers' messages; set it before the
// switch starts.
func (r *cascadeReactor) setHandler(h peerHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handler = h
}

// GetChannels implements p2p.Reactor.
func (r *cascadeReactor) GetChannels() []*p2p.ChannelDescriptor {
	return []*p2p.ChannelDescriptor{{
		ID:                  cascadev1.ChannelID,
		Priority:            5,
		SendQueueCapacity:   cascadeQueue,
		RecvMessageCapacity: cascadev1.MaxMessageSize,
		MessageType:         &cascadev1.Message{},
	}}
}

// InitPeer implements p2p.Reactor: it gives the peer a strike counter.
func (r *cascadeReactor) InitPeer(peer p2p.Peer) p2p.Peer {
	peer.Set(cascadeStrikesKey, new(int))
	return peer
}

// AddPeer implements p2p.Reactor: a peer that speaks the channel (its
// node runs a media relay) becomes reachable.
func (r *cascadeReactor) AddPeer(peer p2p.Peer) {
	if ni, ok := peer.NodeInfo().(interface{ HasChannel(byte) bool }); ok && !ni.HasChannel(cascadev1.ChannelID) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.peers[peer.ID()] = peer
}

// RemovePeer implements p2p.Reactor: the relay drops the peer's links
// and members at once.
func (r *cascadeReactor) RemovePeer(peer p2p.Peer, _ any) {
	r.mu.Lock()
	known := r.peers[peer.ID()] == peer
	if known {
		delete(r.peers, peer.ID())
	}
	h := r.handler
	r.mu.Unlock()
	if known && h != nil {
		h.PeerGone(string(peer.ID()))
	}
}

// Receive implements p2p.Reactor, on the peer's receive goroutine: the
// relay takes the message without waiting on the network.
func (r *cascadeReactor) Receive(e p2p.Envelope) {
	r.mu.Lock()
	h := r.handler
	r.mu.Unlock()
	msg, ok := e.Message.(*cascadev1.Message)
	if !ok || h == nil {
		return
	}
	b, err := msg.Marshal()
	if err == nil {
		err = h.HandlePeer(string(e.Src.ID()), b)
	}
	switch {
	case err == nil:
	case errors.Is(err, sfu.ErrBadPeerMessage):
		r.strike(e.Src, err)
	default:
		r.Logger.Debug("cascade message from peer dropped", "peer", e.Src.ID(), "err", err)
	}
}

// strike counts a malformed message against the peer and disconnects it
// at cascadeMaxStrikes: no honest relay sends one.
func (r *cascadeReactor) strike(peer p2p.Peer, err error) {
	n := 1
	if c, ok := peer.Get(cascadeStrikesKey).(*int); ok {
		r.mu.Lock()
		*c++
		n = *c
		r.mu.Unlock()
	}
	r.Logger.Info("malformed cascade message from peer", "peer", peer.ID(), "strikes", n, "err", err)
	if n >= cascadeMaxStrikes && r.Switch != nil {
		r.Switch.StopPeerForError(peer, fmt.Errorf("cascade: %d malformed messages, the last: %w", n, err))
	}
}

// Send implements sfu.Peers.
func (r *cascadeReactor) Send(peer string, b []byte) bool {
	var msg cascadev1.Message
	if msg.Unmarshal(b) != nil {
		return false
	}
	r.mu.Lock()
	p := r.peers[p2p.ID(peer)]
	r.mu.Unlock()
	return p != nil && p.TrySend(p2p.Envelope{ChannelID: cascadev1.ChannelID, Message: &msg})
}

// Broadcast implements sfu.Peers.
func (r *cascadeReactor) Broadcast(b []byte) {
	var msg cascadev1.Message
	if msg.Unmarshal(b) != nil {
		return
	}
	r.mu.Lock()
	peers := make([]p2p.Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		p.TrySend(p2p.Envelope{ChannelID: cascadev1.ChannelID, Message: &msg})
	}
}
