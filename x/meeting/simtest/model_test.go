package simtest

import (
	"bytes"
	"slices"

	"github.com/parleynet/parley/x/meeting/types"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// The model is what the simulation expects the chain to hold. It is built
// only from x/meeting's README rules and from the messages that succeeded,
// never by reading the module's state, so a difference between the two is
// a finding. It also remembers history the chain does not keep (which
// request a member was admitted with, what was eligible at commit time),
// which some invariants need.

// reqState is the expected JoinRequest of one device in one meeting.
type reqState struct {
	status types.RequestStatus
	eph    []byte
	height int64
	// seq is the request log entry that last wrote it.
	seq uint64
}

// commitRecord is what the simulation saw when an epoch was committed.
type commitRecord struct {
	seq    uint64
	height int64
	// eligible holds, for every member of the epoch, whether it had a
	// pending or admitted request from an active device just before the
	// commit, as read from the chain.
	eligible map[string]bool
}

type meetingState struct {
	id            []byte
	leader        *device
	leaderEph     []byte
	policy        types.Policy
	status        types.Status
	pruned        bool
	epoch         uint64
	rekeyDue      int64
	createdHeight int64
	expiresAt     int64
	endedHeight   int64
	// leaderChanges counts transfers and claims; createValidUntil is the
	// creation signature's valid_until, before which the meeting (and its
	// ID) may not be pruned.
	leaderChanges    uint64
	createValidUntil int64
	heldBack         bool // its pruning waited for createValidUntil
	// usedKeys holds every ephemeral key the meeting has accepted
	// (creation, requests, claims), by hash; none may come back.
	usedKeys map[string][]byte
	reqs     map[string]*reqState
	// roster is the current epoch's members in canonical order.
	roster  []types.Member
	commits []commitRecord // commits[e-1] made epoch e
	// requestSeqs are the op numbers of every successful request of a
	// device (the create of the leader included), in order.
	requestSeqs map[string][]uint64
	// log is the expected request log: log[i] is entry i+1.
	log []types.RequestLogEntry
}

type model struct {
	users    []*user
	devices  map[string]*device // by "user/device"
	meetings map[string]*meetingState
	order    []*meetingState // creation order, for deterministic iteration
	params   types.Params
}

func newModel(params types.Params) *model {
	return &model{devices: map[string]*device{}, meetings: map[string]*meetingState{}, params: params}
}

func (md *model) meeting(id []byte) *meetingState { return md.meetings[string(id)] }

func memberKey(userID, deviceID string) string { return userID + "/" + deviceID }

// gate is the error every message to m gets before anything else is checked.
func (m *meetingState) gate(now int64) error {
	switch {
	case m == nil || m.pruned:
		return types.ErrMeetingNotFound
	case m.status == types.Status_STATUS_ENDED:
		return types.ErrMeetingEnded
	case now >= m.expiresAt:
		return types.ErrMeetingExpired
	}
	return nil
}

func (m *meetingState) isOpen() bool { return !m.pruned && m.status == types.Status_STATUS_OPEN }

func (m *meetingState) req(d *device) *reqState { return m.reqs[d.key()] }

func (m *meetingState) isLeader(d *device) bool { return m.leader == d }

func (m *meetingState) inRoster(d *device) bool {
	return types.SenderIndex(m.roster, d.user, d.id) >= 0
}

func (m *meetingState) pending() uint64 {
	var n uint64
	for _, r := range m.reqs {
		if r.status == types.RequestStatus_REQUEST_STATUS_PENDING {
			n++
		}
	}
	return n
}

// lastRequestSeq is the op number of d's latest successful request, 0 if none.
func (m *meetingState) lastRequestSeq(key string) uint64 {
	s := m.requestSeqs[key]
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// firstInLine follows the README: the first member of the current roster,
// in roster order, that is not the leader, is still admitted and whose
// device is active.
func (md *model) firstInLine(m *meetingState) *device {
	for _, mem := range m.roster {
		d := md.devices[memberKey(mem.UserId, mem.DeviceId)]
		if d == nil || m.isLeader(d) || d.revoked {
			continue
		}
		if r := m.req(d); r == nil || r.status != types.RequestStatus_REQUEST_STATUS_ADMITTED {
			continue
		}
		return d
	}
	return nil
}

func (md *model) limit(m *meetingState) int {
	limit := md.params.MaxParticipants
	if m.policy.MaxParticipants != 0 && m.policy.MaxParticipants < limit {
		limit = m.policy.MaxParticipants
	}
	return int(limit)
}

// --- expected errors ------------------------------------------------------------
//
// Each want* returns every rule of the README that the message breaks; an
// empty list means the message must succeed, otherwise it must fail with
// one of the listed errors (the module reports the first rule it checks).

type wants []error

func (w *wants) add(cond bool, err error) {
	if cond {
		*w = append(*w, err)
	}
}

// deviceWants are the errors of a device signature by signer on behalf of d.
func (md *model) deviceWants(w *wants, d, signer *device) {
	known := md.devices[d.key()] == d
	w.add(!known, identitytypes.ErrDeviceNotFound)
	w.add(known && d.revoked, identitytypes.ErrDeviceRevoked)
	w.add(signer != d, identitytypes.ErrInvalidSignature)
}

// leaderWants: a leader-only message signed by signer.
func (md *model) leaderWants(w *wants, m *meetingState, signer *device) {
	w.add(signer != m.leader || m.leader.revoked, types.ErrNotLeader)
}

func (md *model) wantCreate(now int64, exists bool, d, signer *device, p types.Policy, dur uint64, validUntil int64) wants {
	var w wants
	w.add(p.MaxParticipants > md.params.MaxParticipants || p.MaxParticipants == 1, types.ErrInvalidPolicy)
	w.add(dur == 0 || dur > md.params.MaxDurationSeconds, types.ErrInvalidDuration)
	w.add(exists, types.ErrMeetingExists)
	w.add(validUntil < now || validUntil > now+types.MaxCreateValidity, types.ErrSignatureExpired)
	md.deviceWants(&w, d, signer)
	return w
}

func (md *model) wantRequest(m *meetingState, now int64, d, signer *device, created int64, eph, sealed []byte) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	w.add(len(sealed) > types.MaxSealedSize, types.ErrInvalidSealed)
	w.add(len(m.policy.Allowlist) > 0 && !slices.Contains(m.policy.Allowlist, d.user), types.ErrNotAllowed)
	r := m.req(d)
	w.add(r != nil && r.status.IsOpen(), types.ErrDuplicateRequest)
	w.add(m.pending() >= uint64(md.params.MaxPendingRequests), types.ErrTooManyRequests)
	md.deviceWants(&w, d, signer)
	w.add(created != m.createdHeight, identitytypes.ErrInvalidSignature)
	w.add(m.usedKeys[string(types.EphKeyHash(eph))] != nil, types.ErrEphKeyReused)
	return w
}

// rosterHash is the roster hash of members over the keys of their
// requests, as a leader computes it (a member without a request counts
// with an empty key hash).
func (m *meetingState) rosterHash(members []types.MemberRef) []byte {
	ms := make([]types.Member, len(members))
	for i, ref := range members {
		ms[i] = types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId}
		if r := m.reqs[memberKey(ref.UserId, ref.DeviceId)]; r != nil {
			ms[i].EphPkHash = types.EphKeyHash(r.eph)
		}
	}
	types.SortMembers(ms)
	return types.RosterHash(m.id, ms)
}

func (md *model) wantCommit(m *meetingState, now int64, signer *device, epoch uint64, members []types.MemberRef, rosterHash, commitment []byte, reason types.Reason) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	w.add(epoch != m.epoch+1, types.ErrWrongEpoch)
	_, known := types.Reason_name[int32(reason)]
	w.add(!known || reason == types.Reason_REASON_UNSPECIFIED, types.ErrInvalidReason)
	w.add(len(commitment) != types.KeyCommitmentSize, types.ErrInvalidCommitment)
	w.add(len(members) == 0, types.ErrInvalidRoster)
	w.add(len(members) > md.limit(m), types.ErrRosterTooLarge)
	md.leaderWants(&w, m, signer)
	seen := map[string]bool{}
	hasLeader := false
	for _, ref := range members {
		k := memberKey(ref.UserId, ref.DeviceId)
		w.add(seen[k], types.ErrInvalidRoster)
		seen[k] = true
		d := md.devices[k]
		r := m.reqs[k]
		w.add(d == nil || d.revoked || r == nil || !r.status.IsOpen(), types.ErrNoRequest)
		hasLeader = hasLeader || (d != nil && m.isLeader(d))
	}
	w.add(!hasLeader, types.ErrInvalidRoster)
	w.add(!bytes.Equal(rosterHash, m.rosterHash(members)), types.ErrRosterHashMismatch)
	return w
}

// wantRotate: the rotation signs the hash of the key it replaces.
func (md *model) wantRotate(m *meetingState, now int64, d, signer *device, curHash, eph []byte) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	r := m.req(d)
	w.add(r == nil || r.status != types.RequestStatus_REQUEST_STATUS_ADMITTED, types.ErrNotMember)
	md.deviceWants(&w, d, signer)
	w.add(r != nil && !bytes.Equal(curHash, types.EphKeyHash(r.eph)), identitytypes.ErrInvalidSignature)
	w.add(m.usedKeys[string(types.EphKeyHash(eph))] != nil, types.ErrEphKeyReused)
	return w
}

// wantLeave: the leave signs the hash of the key of the request it ends.
func (md *model) wantLeave(m *meetingState, now int64, d, signer *device, ephHash []byte) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	r := m.req(d)
	w.add(r == nil || !r.status.IsOpen(), types.ErrNotRequested)
	w.add(m.isLeader(d), types.ErrLeaderCannotLeave)
	md.deviceWants(&w, d, signer)
	w.add(r != nil && !bytes.Equal(ephHash, types.EphKeyHash(r.eph)), identitytypes.ErrInvalidSignature)
	return w
}

func (md *model) wantTransfer(m *meetingState, now int64, signer, to *device, epoch, changes uint64) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	md.leaderWants(&w, m, signer)
	w.add(epoch != m.epoch || changes != m.leaderChanges, types.ErrNotLeader)
	w.add(m.isLeader(to), types.ErrInvalidRoster)
	r := m.req(to)
	w.add(!m.inRoster(to) || r == nil || r.status != types.RequestStatus_REQUEST_STATUS_ADMITTED, types.ErrNotMember)
	w.add(to.revoked, identitytypes.ErrDeviceRevoked)
	return w
}

func (md *model) wantClaim(m *meetingState, now, height int64, d, signer *device, changes uint64, eph []byte) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	w.add(m.rekeyDue == 0 || height < m.rekeyDue+int64(md.params.LeaderTimeoutBlocks), types.ErrClaimTooEarly)
	w.add(md.firstInLine(m) != d, types.ErrNotFirstInLine)
	md.deviceWants(&w, d, signer)
	w.add(changes != m.leaderChanges, identitytypes.ErrInvalidSignature)
	w.add(m.usedKeys[string(types.EphKeyHash(eph))] != nil, types.ErrEphKeyReused)
	return w
}

func (md *model) wantEnd(m *meetingState, now int64, signer *device) wants {
	var w wants
	if err := m.gate(now); err != nil {
		return append(w, err)
	}
	md.leaderWants(&w, m, signer)
	return w
}

// --- expected state changes of successful messages ---------------------------------

func (md *model) applyCreate(id []byte, d *device, eph []byte, p types.Policy, dur uint64, validUntil, height, now int64, seq uint64) *meetingState {
	m := &meetingState{
		id: id, leader: d, leaderEph: eph, policy: p, status: types.Status_STATUS_OPEN,
		createdHeight: height, expiresAt: now + int64(dur), createValidUntil: validUntil,
		usedKeys:    map[string][]byte{string(types.EphKeyHash(eph)): eph},
		reqs:        map[string]*reqState{d.key(): {status: types.RequestStatus_REQUEST_STATUS_ADMITTED, eph: eph, height: height, seq: 1}},
		requestSeqs: map[string][]uint64{d.key(): {seq}},
		log:         []types.RequestLogEntry{{UserId: d.user, DeviceId: d.id, Height: height, Kind: types.LogKind_LOG_KIND_CREATE}},
	}
	md.meetings[string(id)] = m
	md.order = append(md.order, m)
	return m
}

// appendLog appends an entry for d to the request log and returns its seq.
func (m *meetingState) appendLog(d *device, height int64, kind types.LogKind) uint64 {
	m.log = append(m.log, types.RequestLogEntry{UserId: d.user, DeviceId: d.id, Height: height, Kind: kind})
	return uint64(len(m.log))
}

func (m *meetingState) applyRequest(d *device, eph []byte, height int64, seq uint64) {
	logSeq := m.appendLog(d, height, types.LogKind_LOG_KIND_REQUEST)
	m.reqs[d.key()] = &reqState{status: types.RequestStatus_REQUEST_STATUS_PENDING, eph: eph, height: height, seq: logSeq}
	m.usedKeys[string(types.EphKeyHash(eph))] = eph
	m.requestSeqs[d.key()] = append(m.requestSeqs[d.key()], seq)
}

// applyRotate: the request (and the leader's key, for the leader) takes
// the new key; the roster keeps the old one until the next commit.
func (m *meetingState) applyRotate(d *device, eph []byte, height int64) {
	r := m.req(d)
	r.eph, r.seq = eph, m.appendLog(d, height, types.LogKind_LOG_KIND_ROTATE)
	m.usedKeys[string(types.EphKeyHash(eph))] = eph
	if m.isLeader(d) {
		m.leaderEph = eph
	}
}

func (m *meetingState) markRekeyDue(height int64) {
	if m.rekeyDue == 0 {
		m.rekeyDue = max(height, 1)
	}
}

func (m *meetingState) applyCommit(members []types.MemberRef, rec commitRecord) {
	in := map[string]bool{}
	for _, ref := range members {
		in[memberKey(ref.UserId, ref.DeviceId)] = true
	}
	for _, old := range m.roster {
		k := memberKey(old.UserId, old.DeviceId)
		if r := m.reqs[k]; !in[k] && r.status == types.RequestStatus_REQUEST_STATUS_ADMITTED {
			r.status = types.RequestStatus_REQUEST_STATUS_REMOVED
		}
	}
	roster := make([]types.Member, 0, len(members))
	for _, ref := range members {
		r := m.reqs[memberKey(ref.UserId, ref.DeviceId)]
		r.status = types.RequestStatus_REQUEST_STATUS_ADMITTED
		roster = append(roster, types.Member{UserId: ref.UserId, DeviceId: ref.DeviceId, EphPkHash: types.EphKeyHash(r.eph)})
	}
	types.SortMembers(roster)
	m.roster = roster
	m.epoch++
	m.rekeyDue = 0
	m.commits = append(m.commits, rec)
}

func (m *meetingState) applyLeave(d *device, height int64) {
	r := m.req(d)
	wasAdmitted := r.status == types.RequestStatus_REQUEST_STATUS_ADMITTED
	r.status = types.RequestStatus_REQUEST_STATUS_LEFT
	if wasAdmitted {
		m.markRekeyDue(height)
	}
}

func (m *meetingState) applyTransfer(to *device) {
	m.leader, m.leaderEph = to, m.req(to).eph
	m.leaderChanges++
}

func (m *meetingState) applyClaim(d *device, eph []byte, height int64) {
	m.req(d).eph = eph
	m.usedKeys[string(types.EphKeyHash(eph))] = eph
	m.leader, m.leaderEph = d, eph
	m.leaderChanges++
	m.rekeyDue = height
}

// applyEnd is both MsgEndMeeting and the EndBlocker's expiry.
func (m *meetingState) applyEnd(height int64) {
	for _, r := range m.reqs {
		if r.status == types.RequestStatus_REQUEST_STATUS_PENDING {
			r.status = types.RequestStatus_REQUEST_STATUS_EXPIRED
		}
	}
	m.status, m.endedHeight = types.Status_STATUS_ENDED, height
}

// applyRevoke is x/identity's revocation as x/meeting's hook must see it:
// every open meeting (expired or not) with an admitted request of the
// device becomes rekey-due, and a pending request expires.
func (md *model) applyRevoke(d *device, height int64) {
	d.revoked = true
	for _, m := range md.order {
		if !m.isOpen() {
			continue
		}
		r := m.req(d)
		switch {
		case r == nil:
		case r.status == types.RequestStatus_REQUEST_STATUS_ADMITTED:
			m.markRekeyDue(height)
		case r.status == types.RequestStatus_REQUEST_STATUS_PENDING:
			r.status = types.RequestStatus_REQUEST_STATUS_EXPIRED
		}
	}
}

// pruneDue reports whether m's prune height has come.
func (md *model) pruneDue(m *meetingState, height int64) bool {
	return m.status == types.Status_STATUS_ENDED && height >= m.endedHeight+int64(md.params.RetentionBlocks)
}

// prunable reports whether the EndBlocker may delete m now: its prune
// height has come and its creation signature can no longer be replayed.
func (md *model) prunable(m *meetingState, height, now int64) bool {
	return md.pruneDue(m, height) && now >= m.createValidUntil
}

func sameMembers(a, b []types.Member) bool {
	return slices.EqualFunc(a, b, func(x, y types.Member) bool {
		return x.UserId == y.UserId && x.DeviceId == y.DeviceId && bytes.Equal(x.EphPkHash, y.EphPkHash)
	})
}
