package simtest

import (
	"context"
	"fmt"

	"github.com/parleynet/parley/x/meeting/types"
)

// opRotate: an admitted device replaces its ephemeral key. Invalid ones
// come from a device without an admitted request, are signed by another
// device or over a key the request no longer holds, reuse a key, or come
// from a revoked device.
func (r *run) opRotate(invalid bool) bool {
	s, md := r.s, r.md
	live := r.live()
	if len(live) == 0 {
		return false
	}
	m := pick(r, live)
	admitted := func(d *device) bool {
		rq := m.req(d)
		return rq != nil && rq.status == types.RequestStatus_REQUEST_STATUS_ADMITTED
	}
	can := r.allDevices(func(d *device) bool { return !d.revoked && admitted(d) })
	if !invalid && len(can) == 0 {
		return false
	}
	var d *device
	if !invalid {
		d = pick(r, can)
	} else {
		switch r.intn(3) {
		case 0: // not admitted: no request, pending, left, removed or expired
			d = pickOr(r, r.allDevices(func(d *device) bool { return !admitted(d) }), m.leader)
		case 1: // revoked, admitted or not
			d = pickOr(r, r.allDevices(func(d *device) bool { return d.revoked }), m.leader)
		default:
			d = pickOr(r, can, m.leader)
		}
	}
	signer, eph := d, r.eph()
	curHash := types.EphKeyHash(r.bytes(8))
	if rq := m.req(d); rq != nil {
		curHash = types.EphKeyHash(rq.eph)
	}
	if invalid {
		switch r.intn(4) {
		case 0:
			signer = r.other(d)
		case 1: // signed over an earlier key (or replayed after a later rotation)
			if old := r.usedKey(m); old != nil {
				curHash = types.EphKeyHash(old)
			}
		case 2:
			eph = r.usedKey(m)
		}
	}
	msg := s.rotateMsg(d, signer, m.id, curHash, eph)
	desc := fmt.Sprintf("rotate %s by %s (signed %s over key %x, new key %x)", short(m.id), d, signer, curHash[:4], types.EphKeyHash(eph)[:4])
	if r.deliver(desc, md.wantRotate(m, s.now(), d, signer, curHash, eph), func(ctx context.Context) error {
		_, err := s.mtMsg.RotateEphKey(ctx, msg)
		return err
	}) {
		m.applyRotate(d, eph, s.height())
		r.stats.rotations++
		r.compareMeeting(m)
	}
	return true
}
