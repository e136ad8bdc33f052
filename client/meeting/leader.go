package meeting

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// leaderState is what the leading device keeps between blocks.
type leaderState struct {
	logSeen    uint64                                 // request log entries read
	requests   map[DeviceRef]meetingtypes.JoinRequest // newest version of every request in the log
	roster     []meetingtypes.Member                  // of epoch rosterOf
	rosterOf   uint64
	askedAgain map[DeviceRef]bool      // removed devices' new requests already reported
	full       map[DeviceRef]bool      // requests already reported as not fitting
	noticed    map[noticeKey]time.Time // notices sent, by request and reason: when last
	parsed     map[string]hpke.PublicKey
}

func newLeaderState() *leaderState {
	return &leaderState{
		requests:   map[DeviceRef]meetingtypes.JoinRequest{},
		askedAgain: map[DeviceRef]bool{}, full: map[DeviceRef]bool{}, noticed: map[noticeKey]time.Time{},
		parsed: map[string]hpke.PublicKey{},
	}
}

// leaderStep runs the leader's part when this device leads.
//
// The leader decides on a tentative snapshot of the newest block (see
// verify.Snapshot): waiting for that block's header would cost every
// join a block. This is safe because nothing secret rests on a tentative
// value. The commit it sends is checked by the chain against the chain's
// own state: every member must hold a pending or admitted request from an
// active device, and the roster hash the leader signed must be the one
// the chain computes from those requests' ephemeral keys, so a commit
// built on a forged request or key is refused. The leader seals the
// meeting key only after the commit's outcome is proven (inclusion and
// result, with the chain's roster hash equal to its own) and every
// tentative read is confirmed against its header. A read that fails
// confirmation names the node, drops everything learned from it, and
// the next block starts over from the next node.
func (s *Session) leaderStep(ctx context.Context) error {
	tip, err := s.cfg.Chain.Reader().Tip(ctx)
	if err != nil {
		return err
	}
	m, err := tip.Meeting(ctx, s.cfg.MeetingID)
	if err != nil {
		return s.leaderFailed(err)
	}
	if m.LeaderUser != s.cfg.Device.UserID || m.LeaderDevice != s.cfg.Device.DeviceID || m.Status != meetingtypes.Status_STATUS_OPEN {
		s.mu.Lock()
		was := s.leader != nil
		s.leader = nil
		s.mu.Unlock()
		if was && m.Status == meetingtypes.Status_STATUS_OPEN {
			// Told from a tentative read, as leading is: the next proven
			// step reads the leader again (expectLeader).
			s.cfg.OnEvent(EventLeaderLeft{Leader: DeviceRef{User: m.LeaderUser, Device: m.LeaderDevice}})
		}
		return nil
	}
	s.mu.Lock()
	ls := s.leader
	gained := ls == nil && s.installed > 0 && !s.claimed
	if ls == nil {
		ls = newLeaderState()
		s.leader, s.claimed = ls, false
	}
	s.mu.Unlock()
	if gained {
		// Handed over by the leader (a claim told its own event, and a
		// creator leads from the start).
		s.cfg.OnEvent(EventLeader{})
	}
	if s.proving() {
		return nil // the last commit first (early.go)
	}
	return s.leaderFailed(s.lead(ctx, tip, m, ls))
}

// leaderFailed forgets what the leader learned when a node lied or the
// chain refused a commit, so the next step reads everything again.
func (s *Session) leaderFailed(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, chain.ErrBadAnswer) || errors.Is(err, chain.ErrTxFailed) {
		s.mu.Lock()
		if s.leader != nil {
			s.leader = newLeaderState()
		}
		s.mu.Unlock()
		s.dir.forget()
	}
	return err
}

// lead commits a new epoch when one is needed — the first epoch, a
// request to admit, a removal, a due rekey (someone left or a device was
// revoked) or the periodic rotation — and sends each member its envelope.
func (s *Session) lead(ctx context.Context, tip *verify.Snapshot, m meetingtypes.Meeting, ls *leaderState) error {
	if err := s.readLog(ctx, tip, m, ls); err != nil {
		return err
	}
	// Its own request too: a claim gives the leader a new ephemeral key.
	own, err := tip.Request(ctx, s.cfg.MeetingID, s.cfg.Device.UserID, s.cfg.Device.DeviceID)
	if err != nil {
		return err
	}
	ls.requests[s.self()] = own
	if m.Epoch > 0 && ls.rosterOf != m.Epoch {
		e, err := tip.Epoch(ctx, s.cfg.MeetingID, m.Epoch)
		if err != nil {
			return err
		}
		ls.roster, ls.rosterOf = e.Members, m.Epoch
	}
	s.mu.Lock()
	removals := make(map[DeviceRef]bool, len(s.removals))
	for k := range s.removals {
		removals[k] = true
	}
	if s.cfg.Control != nil {
		// The files are the record (parley meeting remove/admit write
		// them from another process): a removal lifted there is lifted.
		clear(removals)
		clear(s.removals)
		for _, r := range s.cfg.Control.Removals() {
			removals[DeviceRef{User: r[0], Device: r[1]}] = true
			s.removals[DeviceRef{User: r[0], Device: r[1]}] = true
		}
	}
	rotate := s.rotate || (m.Epoch > 0 && time.Since(s.lastKey) >= s.cfg.RotateEvery)
	installed := s.installed
	s.mu.Unlock()

	reason := meetingtypes.Reason_REASON_ROTATE
	switch {
	case m.Epoch == 0:
		reason = meetingtypes.Reason_REASON_JOIN
	case m.RekeyDueHeight != 0:
		reason = meetingtypes.Reason_REASON_LEAVE
	case m.Epoch > installed:
		// Leadership came to this device (transfer or claim): rekey so
		// that no key of the previous leader's stays in use.
		reason = meetingtypes.Reason_REASON_LEADER
	}
	self := s.self()
	members := map[DeviceRef]meetingtypes.JoinRequest{self: ls.requests[self]}
	inRoster := map[DeviceRef]bool{}
	for _, mem := range ls.roster {
		ref := DeviceRef{User: mem.UserId, Device: mem.DeviceId}
		inRoster[ref] = true
		r := ls.requests[ref]
		if m.RekeyDueHeight != 0 && ref != self {
			// Someone left or a device was revoked: look at each member again.
			var err error
			if r, err = tip.Request(ctx, s.cfg.MeetingID, ref.User, ref.Device); err != nil && !errors.Is(err, verify.ErrNotFound) {
				return err
			}
			ls.requests[ref] = r
			if d, err := tip.Device(ctx, ref.User, ref.Device); err != nil || d.RevokedHeight != 0 {
				reason = meetingtypes.Reason_REASON_REVOKE
				continue
			}
		}
		if r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED {
			continue
		}
		if removals[ref] && ref != self {
			reason = meetingtypes.Reason_REASON_REMOVE
			continue
		}
		members[ref] = r
	}
	admitted := false
	s.mu.Lock()
	lobby := s.lobbyNow // before a scheduled start, requests wait (lobby.go)
	s.mu.Unlock()
	for _, ref := range sortedRefs(ls.requests) {
		r := ls.requests[ref]
		if _, in := members[ref]; in || r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_PENDING || lobby {
			continue
		}
		if removals[ref] {
			// Removed earlier: a new request is never admitted by the
			// policy, only after the leader lets the device back in.
			if !ls.askedAgain[ref] {
				ls.askedAgain[ref] = true
				s.cfg.OnEvent(EventRemovedAsks{Device: ref})
			}
			s.notify(ctx, ls, r, meetingtypes.NoticeRemovedEarlier)
			continue
		}
		// The passcode is checked before the admission policy: a request
		// with a wrong one is refused at once, and the host is never
		// asked about it (nor the requester left waiting for the host).
		var wrong error
		if s.cfg.Passcode != "" {
			wrong = s.checkPasscode(r)
		}
		// A new request with the right passcode clears a refusal.
		if wasWrong := s.markScreened(ref, wrong != nil); wrong != nil {
			if !wasWrong {
				s.cfg.OnEvent(EventProblem{Peer: ref.String(), Err: wrong})
			}
			s.notify(ctx, ls, r, meetingtypes.NoticeWrongPasscode)
			continue
		}
		if s.cfg.Admit != nil && !s.cfg.Admit(r) {
			continue
		}
		if limit := s.capacity(m); limit > 0 && len(members) >= limit {
			// Over what the call carries: refused with a reason, to the
			// leader and the requester, never a silent freeze.
			if !ls.full[ref] {
				ls.full[ref] = true
				s.cfg.OnEvent(EventFull{Device: ref, Limit: limit})
			}
			s.notify(ctx, ls, r, meetingtypes.NoticeFull)
			continue
		}
		members[ref] = r
		admitted = true
	}
	if admitted && m.Epoch > 0 && reason == meetingtypes.Reason_REASON_ROTATE {
		reason = meetingtypes.Reason_REASON_JOIN
	}
	// (The leader is always in inRoster after the first epoch.)
	changed := len(members) != len(inRoster)
	for ref := range members {
		if !inRoster[ref] {
			changed = true
		}
	}
	if !changed && !rotate && m.RekeyDueHeight == 0 && m.Epoch <= installed && m.Epoch > 0 {
		return nil
	}
	return s.commit(ctx, tip, m, ls, members, reason)
}

// readLog reads the request log entries added since the last step, and
// the request each names: the log's length is in the meeting record, so
// no request can be hidden from the leader (only delayed, by a node that
// serves old blocks, which the light client notices).
func (s *Session) readLog(ctx context.Context, tip *verify.Snapshot, m meetingtypes.Meeting, ls *leaderState) error {
	for seq := ls.logSeen + 1; seq <= m.RequestSeq; seq++ {
		e, err := tip.RequestLogEntry(ctx, s.cfg.MeetingID, seq)
		if err != nil {
			return err
		}
		r, err := tip.Request(ctx, s.cfg.MeetingID, e.UserId, e.DeviceId)
		if err != nil {
			return err
		}
		ls.requests[DeviceRef{User: e.UserId, Device: e.DeviceId}] = r
		ls.logSeen = seq
	}
	return nil
}

func sortedRefs[V any](m map[DeviceRef]V) []DeviceRef {
	out := make([]DeviceRef, 0, len(m))
	for ref := range m {
		out = append(out, ref)
	}
	slices.SortFunc(out, func(a, b DeviceRef) int {
		if a.User != b.User {
			return compare(a.User, b.User)
		}
		return compare(a.Device, b.Device)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// commit draws a new meeting key, commits the epoch, and once the outcome
// and every tentative read are proven, seals the key to every other member.
func (s *Session) commit(ctx context.Context, tip *verify.Snapshot, m meetingtypes.Meeting, ls *leaderState, reqs map[DeviceRef]meetingtypes.JoinRequest, reason meetingtypes.Reason) error {
	epoch := m.Epoch + 1
	refs := sortedRefs(reqs)
	mrefs := make([]meetingtypes.MemberRef, len(refs))
	roster := make([]meetingtypes.Member, len(refs))
	ephs := make([][]byte, len(refs))
	for i, ref := range refs {
		r := reqs[ref]
		mrefs[i] = meetingtypes.MemberRef{UserId: ref.User, DeviceId: ref.Device}
		roster[i] = meetingtypes.Member{UserId: ref.User, DeviceId: ref.Device, EphPkHash: meetingtypes.EphKeyHash(r.EphPk)}
		ephs[i] = r.EphPk
	}
	meetingtypes.SortMembers(roster)
	rosterHash := meetingtypes.RosterHash(s.cfg.MeetingID, roster)
	mk := keyschedule.NewMeetingKey()
	defer clear(mk)
	kctx, err := s.ksContext(epoch, rosterHash)
	if err != nil {
		return err
	}
	commitment, err := keyschedule.Commit(mk, kctx)
	if err != nil {
		return err
	}
	res, err := s.cfg.Chain.BroadcastIncluded(ctx, commitMsg(s.cfg.Chain, s.cfg.Device, s.cfg.MeetingID, epoch, mrefs, rosterHash, commitment, reason))
	if err != nil {
		if errors.Is(err, chain.ErrTxFailed) {
			// Refused: perhaps the node fed this device a request or a key
			// the chain does not hold. Checking the tentative reads names
			// it (and leaves it); otherwise the chain moved on meanwhile.
			if cerr := tip.Confirm(ctx); cerr != nil {
				return fmt.Errorf("the chain refused epoch %d because a read it rested on was false: %w (chain: %v)", epoch, cerr, err)
			}
		}
		return err
	}
	// The commit is in a block, as a node says; every tentative read must
	// check out before the key leaves this device. The commit's outcome
	// is proven a block later (proveCommit): the key goes only to proven
	// ephemeral keys whatever the node said of it.
	if err := tip.Confirm(ctx); err != nil {
		return fmt.Errorf("epoch %d is committed, but a read it rests on did not verify, so its key is not sent: %w", epoch, err)
	}
	s.mu.Lock()
	s.unproven = &unprovenCommit{res: res, installedEpoch: installedEpoch{number: epoch, leader: s.self(), rosterHash: rosterHash, commitment: commitment}}
	s.mu.Unlock()
	members, err := s.dir.members(ctx, tip, refs, ephs)
	if err != nil {
		return err
	}
	self := slices.Index(refs, s.self())
	var recipients []keyschedule.Recipient
	for i, mem := range members {
		if i == self {
			continue
		}
		recipients = append(recipients, keyschedule.Recipient{UserID: mem.User, DeviceID: mem.Device, PublicKey: mem.EphPub, Parsed: ls.parsedKey(mem.EphPub)})
	}
	leader := keyschedule.Leader{UserID: s.cfg.Device.UserID, DeviceID: s.cfg.Device.DeviceID, Signer: s.cfg.Device.Key}
	envs, err := keyschedule.SealAll(ctx, leader, kctx, mk, recipients)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(envs))
	for i, env := range envs {
		if bodies[i], err = env.Marshal(); err != nil {
			return err
		}
	}
	for i, err := range s.postEnvelopes(ctx, recipients, bodies) {
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: DeviceRef{User: recipients[i].UserID, Device: recipients[i].DeviceID}.String(), Err: err})
		}
	}
	s.mu.Lock()
	s.rotate = false
	s.mu.Unlock()
	for ref, r := range ls.requests {
		_, in := reqs[ref]
		switch {
		case in:
			r.Status = meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED
		case r.Status == meetingtypes.RequestStatus_REQUEST_STATUS_ADMITTED:
			r.Status = meetingtypes.RequestStatus_REQUEST_STATUS_REMOVED
		}
		ls.requests[ref] = r
	}
	ls.roster, ls.rosterOf = roster, epoch
	key := append([]byte(nil), mk...)
	return s.install(Epoch{Number: epoch, Key: key, Reason: reason, Leader: s.self(), Members: members, Self: self, Height: res.Height}, kctx, commitment,
		meetingtypes.EphKeyHash(reqs[s.self()].EphPk))
}

// postParallel bounds the key envelopes posted at once: one after
// another, a 200-member meeting's 199 took seconds, most of a rekey; a
// node's mailbox takes a burst of 400 from one sender.
const postParallel = 8

// postEnvelopes posts each recipient's envelope, postParallel at a time,
// and returns each post's error.
func (s *Session) postEnvelopes(ctx context.Context, recipients []keyschedule.Recipient, bodies [][]byte) []error {
	errs := make([]error, len(bodies))
	sem := make(chan struct{}, postParallel)
	var wg sync.WaitGroup
	for i, body := range bodies {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.postEnvelope(ctx, keyschedule.EphemeralKeyHash(recipients[i].PublicKey), body)
		})
	}
	wg.Wait()
	return errs
}

// postEnvelope posts a key envelope, trying again twice: a node that
// stopped answering fails the post, and the mailbox client moves to the
// next node for the retry. An envelope lost here leaves its member
// without the epoch's key until the next one.
func (s *Session) postEnvelope(ctx context.Context, to [32]byte, body []byte) error {
	var err error
	for try := range 3 {
		if try > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if err = s.cfg.Mailbox.Post(ctx, to, s.cfg.MeetingID, KindMeetingKey, body); err == nil {
			return nil
		}
	}
	return err
}

// parsedKey returns a member's ephemeral key parsed once per meeting (nil
// if it does not parse; SealAll then reports the member's error).
func (ls *leaderState) parsedKey(pub []byte) hpke.PublicKey {
	if pk, ok := ls.parsed[string(pub)]; ok {
		return pk
	}
	pk, err := keyschedule.ParseEphemeralPublicKey(pub)
	if err != nil {
		return nil
	}
	ls.parsed[string(pub)] = pk
	return pk
}

// capacity is the most members an epoch may have: what the call carries
// (Config.MaxMembers) and the meeting's own policy, whichever is lower (0:
// no bound here; the chain has its own).
func (s *Session) capacity(m meetingtypes.Meeting) int {
	limit := s.cfg.MaxMembers
	if p := int(m.Policy.MaxParticipants); p > 0 && (limit == 0 || p < limit) {
		limit = p
	}
	return limit
}

// checkPasscode checks a request's passcode proof with the leader's
// ephemeral keys (the request may be sealed to the one before a rotation).
func (s *Session) checkPasscode(r meetingtypes.JoinRequest) error {
	var err error
	for _, k := range s.EphemeralKeys() {
		if err = CheckPasscode(s.cfg.Chain.ChainID(), s.cfg.MeetingID, r.UserId, r.DeviceId, s.cfg.Passcode, k, r.Sealed); err == nil {
			return nil
		}
	}
	return err
}
