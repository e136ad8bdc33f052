package bwe

import (
	"testing"

	"github.com/pion/interceptor/pkg/cc"
)

// TestRegistry: an estimator is taken once, by its connection's ID; an
// ID pion never reported gives nil.
func TestRegistry(t *testing.T) {
	r := NewRegistry()
	var e cc.BandwidthEstimator
	r.Put("PeerConnection-1", e)
	r.Put("PeerConnection-2", nil)
	if got := r.Take("PeerConnection-3"); got != nil {
		t.Errorf("an unknown ID gave %v", got)
	}
	_ = r.Take("PeerConnection-1")
	if len(r.m) != 1 {
		t.Errorf("after one take %d entries are kept, want 1", len(r.m))
	}
	_ = r.Take("PeerConnection-2")
	if len(r.m) != 0 {
		t.Errorf("after both takes %d entries are kept", len(r.m))
	}
}
