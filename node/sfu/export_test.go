package sfu

import (
	"github.com/parleynet/parley/internal/bwe"
	"github.com/parleynet/parley/internal/ids"
	"github.com/pion/webrtc/v4"
)

// SetEstimate makes f the relay's bandwidth estimate of each subscriber,
// by member name, instead of its congestion controller's: Config.Estimate
// on a running relay.
func SetEstimate(r *Relay, f func(member string) int) {
	g := func(m ids.DeviceRef) int { return f(m.String()) }
	r.estimateFn.Store(&g)
}

// NewRelayAPI is the relay's pion API (codecs, header extensions and
// interceptors), for the bare pion forwarder the benchmarks compare with.
func NewRelayAPI(se *webrtc.SettingEngine) (*webrtc.API, error) {
	return newAPI(*se, bwe.NewRegistry())
}
