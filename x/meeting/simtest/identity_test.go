package simtest

import (
	"context"
	"fmt"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// opIdentity revokes a device (keeping one per user), adds one with an
// approval by an active device, or now and then resets a user; invalid, it
// tries to revoke a user's last device or an already revoked one.
func (r *run) opIdentity(invalid bool) bool {
	s, md := r.s, r.md
	if invalid {
		u := pick(r, md.users)
		target := pick(r, u.devices)
		if !target.revoked && len(u.active()) > 1 {
			return false // revoking it would be valid
		}
		signer := pick(r, u.active())
		msg := s.revokeMsg(u, s.seq(r.t, u.id), target.id, signer)
		r.deliver(fmt.Sprintf("revoke %s (signed %s)", target, signer), wants{identitytypes.ErrLastDevice, identitytypes.ErrDeviceRevoked}, func(ctx context.Context) error {
			_, err := s.idMsg.RevokeDevice(ctx, msg)
			return err
		})
		return true
	}
	if r.intn(8) == 0 {
		// The owner's recovery: every device revoked at once, one new one.
		u := pick(r, md.users)
		d := r.newDevice(u)
		seq := s.seq(r.t, u.id)
		msg := &identitytypes.MsgResetUser{
			Owner: u.owner, UserId: u.id, DeviceId: d.id, Pubkey: d.pub(),
			PopSig: d.sign(identitytypes.ResetSignBytes(chainID, u.owner, u.id, seq, d.id, d.pub())),
		}
		if r.deliver(fmt.Sprintf("reset %s with %s", u.id, d), nil, func(ctx context.Context) error {
			_, err := s.idMsg.ResetUser(ctx, msg)
			return err
		}) {
			for _, old := range u.active() {
				md.applyRevoke(old, s.height())
				r.stats.revoked++
			}
			u.devices = append(u.devices, d)
			md.devices[d.key()] = d
			r.stats.resets++
			r.compareAll()
		}
		return true
	}
	if r.intn(4) == 0 {
		var can []*user
		for _, u := range md.users {
			if len(u.active()) < 3 {
				can = append(can, u)
			}
		}
		if len(can) == 0 {
			return false
		}
		u := pick(r, can)
		d := r.newDevice(u)
		approver := pick(r, u.active())
		msg := s.addDeviceMsg(u, s.seq(r.t, u.id), d, approver)
		if r.deliver(fmt.Sprintf("add device %s approved by %s", d, approver), nil, func(ctx context.Context) error {
			_, err := s.idMsg.AddDevice(ctx, msg)
			return err
		}) {
			u.devices = append(u.devices, d)
			md.devices[d.key()] = d
			r.stats.added++
		}
		return true
	}
	var can []*user
	for _, u := range md.users {
		if len(u.active()) > 1 {
			can = append(can, u)
		}
	}
	if len(can) == 0 {
		return false
	}
	u := pick(r, can)
	target, signer := pick(r, u.active()), pick(r, u.active())
	msg := s.revokeMsg(u, s.seq(r.t, u.id), target.id, signer)
	if r.deliver(fmt.Sprintf("revoke %s (signed %s)", target, signer), nil, func(ctx context.Context) error {
		_, err := s.idMsg.RevokeDevice(ctx, msg)
		return err
	}) {
		md.applyRevoke(target, s.height())
		r.stats.revoked++
		r.compareAll()
	}
	return true
}

// newDevice makes the next device of u, not yet registered.
func (r *run) newDevice(u *user) *device {
	d := newDevice(u.id, fmt.Sprintf("d%d", u.nextDev), r.bytes(32))
	u.nextDev++
	return d
}
