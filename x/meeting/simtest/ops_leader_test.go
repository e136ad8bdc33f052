package simtest

import (
	"context"
	"fmt"

	"github.com/parleynet/parley/x/meeting/types"
)

// rosterOthers are the admitted, active roster members other than the leader.
func (r *run) rosterOthers(m *meetingState) []*device {
	var out []*device
	for _, mem := range m.roster {
		d := r.md.devices[memberKey(mem.UserId, mem.DeviceId)]
		if rq := m.req(d); d != m.leader && !d.revoked && rq.status == types.RequestStatus_REQUEST_STATUS_ADMITTED {
			out = append(out, d)
		}
	}
	return out
}

func (r *run) opTransfer(invalid bool) bool {
	s, md := r.s, r.md
	var cands []*meetingState
	for _, m := range r.live() {
		if invalid || (!m.leader.revoked && len(r.rosterOthers(m)) > 0) {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return false
	}
	m := pick(r, cands)
	signer := m.leader
	var to *device
	if others := r.rosterOthers(m); len(others) > 0 {
		to = pick(r, others)
	}
	epoch, changes := m.epoch, m.leaderChanges
	if invalid || to == nil {
		switch r.intn(4) {
		case 3: // signed for an earlier leadership or epoch
			if to == nil {
				to = m.leader
			}
			if r.intn(2) == 0 && changes > 0 {
				changes--
			} else {
				epoch++
			}
		case 0:
			to = pickOr(r, r.allDevices(func(d *device) bool { return !d.revoked && !m.inRoster(d) }), m.leader)
		case 1:
			to = m.leader
		default:
			if to == nil {
				to = pick(r, r.allDevices(func(d *device) bool { return d != m.leader }))
			}
			signer = r.other(m.leader)
		}
	}
	msg := s.transferMsg(signer, m.id, epoch, changes, to)
	desc := fmt.Sprintf("transfer %s to %s (signed %s for epoch %d, change %d)", short(m.id), to, signer, epoch, changes)
	if r.deliver(desc, md.wantTransfer(m, s.now(), signer, to, epoch, changes), func(ctx context.Context) error {
		_, err := s.mtMsg.TransferLeadership(ctx, msg)
		return err
	}) {
		m.applyTransfer(to)
		r.stats.transfers++
		r.compareMeeting(m)
	}
	return true
}

func (r *run) opClaim(invalid bool) bool {
	s, md := r.s, r.md
	h := s.height()
	timedOut := func(m *meetingState) bool {
		return m.rekeyDue != 0 && h >= m.rekeyDue+int64(md.params.LeaderTimeoutBlocks)
	}
	var due, other []*meetingState
	for _, m := range r.live() {
		if timedOut(m) && md.firstInLine(m) != nil {
			due = append(due, m)
		} else if len(m.roster) > 0 {
			other = append(other, m)
		}
	}
	var m *meetingState
	var d *device
	switch {
	case !invalid && len(due) > 0:
		m = pick(r, due)
		d = md.firstInLine(m)
	case !invalid:
		return false
	case len(due) > 0 && r.intn(2) == 0: // the wrong member, once the timeout passed
		m = pick(r, due)
		first := md.firstInLine(m)
		d = pickOr(r, r.allDevices(func(d *device) bool { return d != first && !d.revoked && m.req(d) != nil }), m.leader)
	case len(other) > 0: // too early, or nothing due at all
		m = pick(r, other)
		if d = md.firstInLine(m); d == nil {
			d = pick(r, r.allDevices(func(d *device) bool { return m.inRoster(d) }))
		}
	default:
		return false
	}
	signer, changes, eph := d, m.leaderChanges, r.eph()
	if invalid {
		switch r.intn(6) {
		case 0:
			signer = r.other(d)
		case 1:
			changes++
		case 2:
			eph = r.usedKey(m)
		}
	}
	msg := s.claimMsg(d, signer, m.id, m.epoch, changes, eph)
	desc := fmt.Sprintf("claim %s by %s (signed %s, change %d) rekey_due=%d", short(m.id), d, signer, changes, m.rekeyDue)
	if r.deliver(desc, md.wantClaim(m, s.now(), h, d, signer, changes, eph), func(ctx context.Context) error {
		_, err := s.mtMsg.ClaimLeadership(ctx, msg)
		return err
	}) {
		m.applyClaim(d, eph, h)
		r.stats.claims++
		r.compareMeeting(m)
	}
	return true
}

func (r *run) opEnd(invalid bool) bool {
	s, md := r.s, r.md
	var cands []*meetingState
	for _, m := range r.live() {
		if invalid || !m.leader.revoked {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return false
	}
	m := pick(r, cands)
	signer := m.leader
	if invalid {
		signer = r.other(m.leader)
	}
	msg := s.endMsg(signer, m.id, m.epoch)
	desc := fmt.Sprintf("end %s (signed %s)", short(m.id), signer)
	if r.deliver(desc, md.wantEnd(m, s.now(), signer), func(ctx context.Context) error {
		_, err := s.mtMsg.EndMeeting(ctx, msg)
		return err
	}) {
		m.applyEnd(s.height())
		r.stats.ended++
		r.compareMeeting(m)
	}
	return true
}

// probeClosed sends one random message to a meeting that accepts nothing:
// an ended one must answer ErrMeetingEnded, a pruned one ErrMeetingNotFound.
func (r *run) probeClosed(m *meetingState, want error) {
	s := r.s
	leader := m.leader
	member := leader
	if len(m.roster) > 0 {
		mem := pick(r, m.roster)
		member = r.md.devices[memberKey(mem.UserId, mem.DeviceId)]
	}
	anyone := pick(r, r.allDevices(func(d *device) bool { return !d.revoked }))
	var desc string
	var call func(ctx context.Context) error
	switch r.intn(8) {
	case 0:
		msg := s.requestMsg(anyone, anyone, m.id, m.createdHeight, r.eph(), nil)
		desc, call = "request by "+anyone.String(), func(ctx context.Context) error { _, err := s.mtMsg.RequestJoin(ctx, msg); return err }
	case 1:
		refs := []types.MemberRef{leader.ref()}
		msg := s.commitMsg(leader, m.id, m.epoch+1, refs, m.rosterHash(refs), r.bytes(types.KeyCommitmentSize), types.Reason_REASON_ROTATE)
		desc, call = "commit by the leader", func(ctx context.Context) error { _, err := s.mtMsg.CommitEpoch(ctx, msg); return err }
	case 6:
		msg := s.rotateMsg(member, member, m.id, types.EphKeyHash(m.req(member).eph), r.eph())
		desc, call = "rotation by "+member.String(), func(ctx context.Context) error { _, err := s.mtMsg.RotateEphKey(ctx, msg); return err }
	case 2:
		msg := s.leaveMsg(member, member, m.id, types.EphKeyHash(m.req(member).eph))
		desc, call = "leave by "+member.String(), func(ctx context.Context) error { _, err := s.mtMsg.Leave(ctx, msg); return err }
	case 3:
		msg := s.transferMsg(leader, m.id, m.epoch, m.leaderChanges, member)
		desc, call = "transfer to "+member.String(), func(ctx context.Context) error { _, err := s.mtMsg.TransferLeadership(ctx, msg); return err }
	case 4:
		msg := s.claimMsg(member, member, m.id, m.epoch, m.leaderChanges, r.eph())
		desc, call = "claim by "+member.String(), func(ctx context.Context) error { _, err := s.mtMsg.ClaimLeadership(ctx, msg); return err }
	default:
		msg := s.endMsg(leader, m.id, m.epoch)
		desc, call = "end by the leader", func(ctx context.Context) error { _, err := s.mtMsg.EndMeeting(ctx, msg); return err }
	}
	r.deliver(fmt.Sprintf("probe %s %s: %s", m.statusName(), short(m.id), desc), wants{want}, call)
}

func (m *meetingState) statusName() string {
	if m.pruned {
		return "pruned"
	}
	return m.status.String()
}
