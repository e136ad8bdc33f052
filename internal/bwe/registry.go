// Package bwe hands each new pion PeerConnection's bandwidth estimator
// to the code that made the connection: pion's congestion-control
// interceptor reports the estimator by the connection's ID while
// NewPeerConnection runs, and nothing else ties the two together. The
// call engine (client/call) and the media relay (node/sfu) each keep one
// Registry.
package bwe

import (
	"sync"

	"github.com/pion/interceptor/pkg/cc"
)

// Registry holds estimators between pion's report (Put, given to
// cc.InterceptorFactory.OnNewPeerConnection) and their connection's
// maker taking them (Take) right after NewPeerConnection. An entry lives
// only between those two calls.
type Registry struct {
	mu sync.Mutex
	m  map[string]cc.BandwidthEstimator
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{m: map[string]cc.BandwidthEstimator{}} }

// Put keeps the estimator of connection id.
func (r *Registry) Put(id string, e cc.BandwidthEstimator) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[id] = e
}

// Take returns the estimator of connection id and forgets it; nil when
// pion reported none (no congestion control on that API).
func (r *Registry) Take(id string) cc.BandwidthEstimator {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[id]
	delete(r.m, id)
	return e
}
