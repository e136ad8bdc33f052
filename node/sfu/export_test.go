package sfu

// SetEstimate makes f the relay's bandwidth estimate of each subscriber,
// by member name, instead of its congestion controller's.
func SetEstimate(r *Relay, f func(member string) int) { r.estimateHook.Store(&f) }
