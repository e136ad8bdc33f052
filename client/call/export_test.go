package call

import "github.com/parleynet/parley/internal/ids"

// Hooks into the receive path, for tests only.

// InjectFrame feeds frame into the receive path of the connection with
// user/device as if it had arrived on its kind track, and reports false if
// that member is not a peer.
func (e *Engine) InjectFrame(user, device string, kind MediaKind, frame []byte) bool {
	list := e.peerList.Load()
	if list == nil {
		return false
	}
	for _, p := range *list {
		if p.id != (ids.DeviceRef{User: user, Device: device}) {
			continue
		}
		p.sinkMu.Lock()
		ts := p.sinks[kind]
		p.sinkMu.Unlock()
		if ts == nil {
			ts = &trackSink{sink: discard{}}
		}
		e.receiveFrame(p, kind, frame, 0, ts, nil)
		return true
	}
	return false
}

// TapReceived makes f see every reassembled frame before it is checked
// and decrypted; what f returns goes on in its place (tampering). f must
// copy what it keeps.
func (e *Engine) TapReceived(f func(user, device string, kind MediaKind, frame []byte) []byte) {
	tap := func(from ids.DeviceRef, kind MediaKind, frame []byte) []byte {
		return f(from.User, from.Device, kind, frame)
	}
	e.rxTap.Store(&tap)
}
