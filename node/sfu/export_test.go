package sfu

import (
	"github.com/parleynet/parley/internal/bwe"
	"github.com/pion/webrtc/v4"
)

// SetEstimate makes f the relay's bandwidth estimate of each subscriber,
// by member name, instead of its congestion controller's.
func SetEstimate(r *Relay, f func(member string) int) { r.estimateHook.Store(&f) }

// NewRelayAPI is the relay's pion API (codecs, header extensions and
// interceptors), for the bare pion forwarder the benchmarks compare with.
func NewRelayAPI(se *webrtc.SettingEngine) (*webrtc.API, error) {
	return newAPI(*se, bwe.NewRegistry())
}
