package simtest

import (
	"context"
	"fmt"
	"slices"

	"cosmossdk.io/collections"

	"github.com/parleynet/parley/x/meeting/types"
)

// The operations of the generator. Each picks its targets at random,
// deliberately breaks one rule when invalid is set, asks the model which
// errors the message deserves and delivers it. An operation with nothing
// to act on returns false and the generator picks another.

func (r *run) intn(n int) int { return r.rng.IntN(n) }

func (r *run) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.rng.Uint32())
	}
	return b
}

func pick[T any](r *run, xs []T) T { return xs[r.intn(len(xs))] }

// pickOr picks from xs, or returns fallback when xs is empty.
func pickOr[T any](r *run, xs []T, fallback T) T {
	if len(xs) == 0 {
		return fallback
	}
	return pick(r, xs)
}

// eph is a new ephemeral key, derived from the run's seed.
func (r *run) eph() []byte { return ephKey(r.t, r.bytes(32)) }

// usedKey is a key m accepted before, for a replay; nil if none.
func (r *run) usedKey(m *meetingState) []byte {
	hashes := sortedKeys(m.usedKeys)
	if len(hashes) == 0 {
		return nil
	}
	return m.usedKeys[pick(r, hashes)]
}

// live are the meetings that accept messages now.
func (r *run) live() []*meetingState {
	var out []*meetingState
	for _, m := range r.md.order {
		if m.gate(r.s.now()) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (r *run) allDevices(keep func(*device) bool) []*device {
	var out []*device
	for _, u := range r.md.users {
		for _, d := range u.devices {
			if keep(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// other is a registered device other than d, to sign in d's place.
func (r *run) other(d *device) *device {
	return pick(r, r.allDevices(func(x *device) bool { return x != d }))
}

func short(id []byte) string { return fmt.Sprintf("%x", id[:4]) }

func (r *run) opCreate(invalid bool) bool {
	s, md := r.s, r.md
	u := pick(r, md.users)
	d := pick(r, u.active())
	signer, id, exists := d, r.bytes(types.MeetingIDSize), false
	var p types.Policy
	if r.intn(2) == 0 {
		p.MaxParticipants = uint32(2 + r.intn(11))
	}
	if r.intn(10) < 3 {
		perm := r.rng.Perm(len(md.users))
		for _, i := range perm[:2+r.intn(4)] {
			p.Allowlist = append(p.Allowlist, md.users[i].id)
		}
	}
	p.PasscodeRequired = r.intn(4) == 0
	// Half the meetings are short, so that expiry happens within a run.
	dur := uint64(60 + r.intn(pick(r, []int{61, 541})))
	// Sometimes long enough to hold up the pruning of a meeting that ends early.
	validUntil := s.now() + int64(r.intn(61))
	if invalid {
		switch r.intn(6) {
		case 0:
			dur = pick(r, []uint64{0, md.params.MaxDurationSeconds + 1})
		case 1:
			p.MaxParticipants = pick(r, []uint32{1, md.params.MaxParticipants + 1})
		case 2:
			signer = r.other(d)
		case 3:
			if revoked := r.allDevices(func(x *device) bool { return x.revoked }); len(revoked) > 0 {
				d = pick(r, revoked)
				signer = d
			} else {
				signer = r.other(d)
			}
		case 4:
			var kept []*meetingState
			for _, m := range md.order {
				if !m.pruned {
					kept = append(kept, m)
				}
			}
			if len(kept) > 0 {
				id, exists = pick(r, kept).id, true
			}
		case 5:
			validUntil = pick(r, []int64{s.now() - 1, s.now() + types.MaxCreateValidity + 1})
		}
	}
	eph := r.eph()
	msg := s.createMsg(d, signer, id, eph, p, dur, validUntil)
	desc := fmt.Sprintf("create %s by %s (signed %s) policy=(%d,%v) dur=%d valid_until=now%+d",
		short(id), d, signer, p.MaxParticipants, p.Allowlist, dur, validUntil-s.now())
	if r.deliver(desc, md.wantCreate(s.now(), exists, d, signer, p, dur, validUntil), func(ctx context.Context) error {
		_, err := s.mtMsg.CreateMeeting(ctx, msg)
		return err
	}) {
		m := md.applyCreate(id, d, eph, p, dur, validUntil, s.height(), s.now(), r.seq)
		r.stats.created++
		r.compareMeeting(m)
	}
	return true
}

func (r *run) opRequest(invalid bool) bool {
	s, md := r.s, r.md
	live := r.live()
	if len(live) == 0 {
		return false
	}
	m := pick(r, live)
	if invalid && r.intn(3) == 0 {
		// The meeting with the most pending requests: once it is full, an
		// otherwise valid request is the invalid one.
		for _, x := range live {
			if x.pending() > m.pending() {
				m = x
			}
		}
		invalid = m.pending() < uint64(md.params.MaxPendingRequests)
	}
	sealed := r.bytes(r.intn(65))
	allowed := func(d *device) bool {
		return len(m.policy.Allowlist) == 0 || slices.Contains(m.policy.Allowlist, d.user)
	}
	fresh := r.allDevices(func(d *device) bool {
		rq := m.req(d)
		return !d.revoked && allowed(d) && (rq == nil || !rq.status.IsOpen())
	})
	var d *device
	if !invalid && len(fresh) > 0 {
		d = pick(r, fresh)
	} else {
		var cands []*device
		switch r.intn(5) {
		case 0: // a device that already has an open request
			cands = r.allDevices(func(d *device) bool { rq := m.req(d); return rq != nil && rq.status.IsOpen() })
		case 1: // a user not on the allowlist
			cands = r.allDevices(func(d *device) bool { return !d.revoked && !allowed(d) })
		case 2: // a revoked device
			cands = r.allDevices(func(d *device) bool { return d.revoked })
		case 3:
			sealed = r.bytes(types.MaxSealedSize + 1)
		}
		if len(cands) > 0 {
			d = pick(r, cands)
		} else {
			d = pick(r, r.allDevices(func(d *device) bool { return !d.revoked }))
		}
	}
	signer, eph, created := d, r.eph(), m.createdHeight
	if invalid {
		switch r.intn(6) {
		case 0:
			signer = r.other(d)
		case 1:
			eph = r.usedKey(m)
		case 2: // signed for another meeting under the same ID
			created--
		}
	}
	msg := s.requestMsg(d, signer, m.id, created, eph, sealed)
	desc := fmt.Sprintf("request %s by %s (signed %s, sealed %d B, key %x)", short(m.id), d, signer, len(sealed), types.EphKeyHash(eph)[:4])
	if r.deliver(desc, md.wantRequest(m, s.now(), d, signer, created, eph, sealed), func(ctx context.Context) error {
		_, err := s.mtMsg.RequestJoin(ctx, msg)
		return err
	}) {
		m.applyRequest(d, eph, s.height(), r.seq)
		r.stats.requests++
		r.compareMeeting(m)
	}
	return true
}

// eligible are the devices a commit may list: an open request and an
// active device.
func (r *run) eligible(m *meetingState) []*device {
	var out []*device
	for _, k := range sortedKeys(m.reqs) {
		if d := r.md.devices[k]; !d.revoked && m.reqs[k].status.IsOpen() {
			out = append(out, d)
		}
	}
	return out
}

func (r *run) opCommit(invalid bool) bool {
	s, md := r.s, r.md
	var cands []*meetingState
	for _, m := range r.live() {
		if !m.leader.revoked || invalid {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return false
	}
	m := pick(r, cands)
	var members []*device
	for _, d := range r.eligible(m) {
		if d != m.leader && r.intn(10) < 7 {
			members = append(members, d)
		}
	}
	r.rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	members = members[:min(len(members), md.limit(m)-1)]
	members = slices.Insert(members, r.intn(len(members)+1), m.leader)
	epoch, signer, reason, commitment := m.epoch+1, m.leader, types.Reason(1+r.intn(6)), r.bytes(types.KeyCommitmentSize)
	staleHash := false
	if invalid {
		switch r.intn(7) {
		case 0:
			epoch = pick(r, []uint64{m.epoch, m.epoch + 2})
		case 1:
			signer = r.other(m.leader)
		case 2: // a member without a pending or admitted request, or revoked
			if out := r.allDevices(func(d *device) bool {
				rq := m.req(d)
				return rq == nil || !rq.status.IsOpen() || d.revoked
			}); len(out) > 0 {
				members = slices.Insert(members, r.intn(len(members)+1), pick(r, out))
			}
		case 3: // without the leader
			if i := slices.Index(members, m.leader); len(members) > 1 {
				members = slices.Delete(members, i, i+1)
			} else {
				members = append(members, m.leader)
			}
		case 4:
			members = append(members, pick(r, members))
		case 5:
			if r.intn(2) == 0 {
				commitment = commitment[:types.KeyCommitmentSize-1]
			} else {
				reason = pick(r, []types.Reason{types.Reason_REASON_UNSPECIFIED, 99})
			}
		case 6: // a roster hash over a key the leader was wrongly shown
			staleHash = true
		}
	}
	refs := make([]types.MemberRef, len(members))
	for i, d := range members {
		refs[i] = d.ref()
	}
	// The leader computes the roster hash from the requests' keys; a stale
	// one puts a key the meeting used before in place of a member's.
	rosterHash := m.rosterHash(refs)
	if staleHash {
		old := r.usedKey(m)
		ms := make([]types.Member, len(refs))
		victim := r.intn(len(refs))
		for i, ref := range refs {
			ms[i] = types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId}
			if rq := m.reqs[ref.UserId+"/"+ref.DeviceId]; rq != nil {
				ms[i].EphPkHash = types.EphKeyHash(rq.eph)
			}
			if i == victim {
				ms[i].EphPkHash = types.EphKeyHash(old)
			}
		}
		types.SortMembers(ms)
		rosterHash = types.RosterHash(m.id, ms)
	}
	// What the chain holds just before the commit, for invariant 3.
	eligible := map[string]bool{}
	for _, d := range members {
		rq, err := s.meeting.Requests.Get(s.ctx, collections.Join(m.id, d.key()))
		_, inactive := s.identity.ActiveDevice(s.ctx, d.user, d.id)
		eligible[d.key()] = err == nil && rq.Status.IsOpen() && inactive == nil
	}
	msg := s.commitMsg(signer, m.id, epoch, refs, rosterHash, commitment, reason)
	desc := fmt.Sprintf("commit %s epoch %d by %s members=%v reason=%v hash=%x", short(m.id), epoch, signer, members, reason, rosterHash[:4])
	var resp *types.MsgCommitEpochResponse
	if r.deliver(desc, md.wantCommit(m, s.now(), signer, epoch, refs, rosterHash, commitment, reason), func(ctx context.Context) (err error) {
		resp, err = s.mtMsg.CommitEpoch(ctx, msg)
		return err
	}) {
		m.applyCommit(refs, commitRecord{seq: r.seq, height: s.height(), eligible: eligible})
		r.stats.epochs++
		if got := types.RosterHash(m.id, m.roster); string(resp.RosterHash) != string(got) || resp.Epoch != epoch {
			r.fatalf("commit %s epoch %d answered roster hash %x, epoch %d; want %x", short(m.id), epoch, resp.RosterHash, resp.Epoch, got)
		}
		r.compareMeeting(m)
	}
	return true
}

func (r *run) opLeave(invalid bool) bool {
	s, md := r.s, r.md
	live := r.live()
	if len(live) == 0 {
		return false
	}
	m := pick(r, live)
	var can []*device
	for _, k := range sortedKeys(m.reqs) {
		if d := md.devices[k]; !d.revoked && d != m.leader && m.reqs[k].status.IsOpen() {
			can = append(can, d)
		}
	}
	var d *device
	if !invalid && len(can) > 0 {
		d = pick(r, can)
	} else {
		switch r.intn(2) {
		case 0:
			d = m.leader
		default:
			d = pickOr(r, r.allDevices(func(d *device) bool { rq := m.req(d); return rq == nil || !rq.status.IsOpen() }), m.leader)
		}
	}
	signer, ephHash := d, types.EphKeyHash(r.bytes(8))
	if rq := m.req(d); rq != nil {
		ephHash = types.EphKeyHash(rq.eph)
	}
	if invalid {
		switch r.intn(4) {
		case 0:
			signer = r.other(d)
		case 1: // signed for an earlier request of the device
			if old := r.usedKey(m); old != nil {
				ephHash = types.EphKeyHash(old)
			}
		}
	}
	msg := s.leaveMsg(d, signer, m.id, ephHash)
	desc := fmt.Sprintf("leave %s by %s (signed %s for key %x)", short(m.id), d, signer, ephHash[:4])
	if r.deliver(desc, md.wantLeave(m, s.now(), d, signer, ephHash), func(ctx context.Context) error {
		_, err := s.mtMsg.Leave(ctx, msg)
		return err
	}) {
		m.applyLeave(d, s.height())
		r.stats.leaves++
		r.compareMeeting(m)
	}
	return true
}
