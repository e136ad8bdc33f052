package call

import (
	"context"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Timing of relay credentials.
const (
	// relayRetry is how long the engine waits after Reach.Relays failed
	// before asking again; it doubles up to relayRetryMax.
	relayRetry    = 2 * time.Second
	relayRetryMax = time.Minute
	// relayRefreshMin keeps a credential that expires at once (a broken
	// node clock) from being asked for in a tight loop.
	relayRefreshMin = 10 * time.Second
)

// relayState holds the latest answer of Reach.Relays.
type relayState struct {
	servers atomic.Pointer[[]webrtc.ICEServer]
}

// iceServers returns the servers for a new connection or an ICE restart:
// the fixed ones and the relays' latest.
func (e *Engine) iceServers() []webrtc.ICEServer {
	out := slices.Clone(e.cfg.Reach.Servers)
	if r := e.relays.servers.Load(); r != nil {
		out = append(out, *r...)
	}
	return out
}

// icePolicy returns the ICE transport policy: relay only, or all.
func (e *Engine) icePolicy() webrtc.ICETransportPolicy {
	if e.cfg.Reach.RelayOnly {
		return webrtc.ICETransportPolicyRelay
	}
	return webrtc.ICETransportPolicyAll
}

// startRelays runs the relay fetcher, when there is one, and waits up to
// RelayWait for its first answer.
func (e *Engine) startRelays(ctx context.Context) {
	if e.cfg.Reach.Relays == nil {
		return
	}
	first := make(chan struct{})
	e.wg.Go(func() { e.runRelays(ctx, first) })
	t := time.NewTimer(RelayWait)
	defer t.Stop()
	select {
	case <-first:
	case <-t.C:
		e.log.Warnf("no relay answered within %v; connecting without, relays join at the next ICE restart", RelayWait)
	case <-ctx.Done():
	}
}

// runRelays asks Reach.Relays at once and again once two thirds of the
// credentials' life has passed, until ctx ends. first is closed after the
// first answer, good or bad.
func (e *Engine) runRelays(ctx context.Context, first chan<- struct{}) {
	retry := relayRetry
	for {
		servers, expires, err := e.cfg.Reach.Relays(ctx)
		if first != nil {
			close(first)
			first = nil
		}
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Warnf("relays: %v", err)
			wait, retry = retry, min(2*retry, relayRetryMax)
		} else {
			e.relays.servers.Store(&servers)
			retry = relayRetry
			wait = max(time.Until(expires)*2/3, relayRefreshMin)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watchInterfaces compares this device's IP addresses every
// Config.InterfaceWatch and queues an evAddrsChanged event when they
// change: Wi-Fi to cable, a new DHCP lease. The sessions are then replaced
// at once instead of waiting for their checks to time out.
func (e *Engine) watchInterfaces(ctx context.Context) {
	if e.cfg.InterfaceWatch < 0 {
		return
	}
	last := localAddrs()
	t := time.NewTicker(e.cfg.InterfaceWatch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := localAddrs()
		if !slices.Equal(now, last) {
			e.log.Infof("this device's addresses changed: %v → %v", last, now)
			last = now
			e.events.push(event{kind: evAddrsChanged})
		}
	}
}

// localAddrs returns the device's interface addresses, sorted.
func localAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out
}
