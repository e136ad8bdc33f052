//go:build bench

package bench

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/client"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// cpCheckRemoved asserts that the removed member got nothing of the
// epoch without it.
func cpCheckRemoved(rm cpCommit, victim *cpMember, victimTo [32]byte, lbox *cpLeaderBox) error {
	name := victim.p.name()
	if rm.reason != meetingtypes.Reason_REASON_REMOVE || meetingtypes.SenderIndex(cpMembersOf(rm), victim.p.user, victim.p.device) >= 0 {
		return fmt.Errorf("epoch %d (reason %s) is not the removal of %s", rm.epoch, rm.reason, name)
	}
	err := victim.ended(cpStep)
	victim.mu.Lock()
	removedAt := victim.removedAt
	victim.mu.Unlock()
	switch {
	case !errors.Is(err, meeting.ErrRemoved):
		return fmt.Errorf("%s's session: %v, not ended as removed", name, err)
	case removedAt.IsZero():
		return fmt.Errorf("%s's session reported no removal", name)
	}
	if _, ok := victim.installedAt(rm.epoch); ok || victim.newest() > rm.epoch {
		return fmt.Errorf("%s installed a key of epoch %d or later", name, rm.epoch)
	}
	if n := victim.deliveredFrom(rm.epoch); n > 0 {
		return fmt.Errorf("%d key envelopes of epoch %d or later were delivered to %s", n, rm.epoch, name)
	}
	for _, p := range lbox.of(rm.epoch) {
		if p.to == victimTo {
			return fmt.Errorf("the leader posted an envelope of epoch %d to %s", rm.epoch, name)
		}
	}
	return nil
}

// cpMembersOf is a commit's roster as epoch members (for SenderIndex).
func cpMembersOf(c cpCommit) []meetingtypes.Member {
	out := make([]meetingtypes.Member, len(c.members))
	for i, r := range c.members {
		out[i] = meetingtypes.Member{UserId: r.UserId, DeviceId: r.DeviceId}
	}
	return out
}

// cpSealIdle times keyschedule.SealAll to the 200-member epoch's 199
// members, keys parsed once as the leader does, with the chain idle.
func cpSealIdle(ctx context.Context, leader *latParty, chainID string, id []byte, c200 cpCommit, members []*cpMember) (time.Duration, error) {
	kctx, err := keyschedule.NewContext(chainID, id, c200.epoch, c200.rosterHash)
	if err != nil {
		return 0, err
	}
	var to []keyschedule.Recipient
	for _, m := range members {
		m.mu.Lock()
		pub := m.priv.PublicKey()
		m.mu.Unlock()
		to = append(to, keyschedule.Recipient{UserID: m.p.user, DeviceID: m.p.device, PublicKey: pub.Bytes(), Parsed: pub})
	}
	mk := keyschedule.NewMeetingKey()
	defer clear(mk)
	ld := keyschedule.Leader{UserID: leader.user, DeviceID: leader.device, Signer: leader.dev.Key}
	var runs []time.Duration
	for range cpSealRuns {
		t := time.Now()
		if _, err := keyschedule.SealAll(ctx, ld, kctx, mk, to); err != nil {
			return 0, err
		}
		runs = append(runs, time.Since(t))
	}
	return latPercentile(runs, .5), nil
}

// cpTxSizes reads the signed size of the two commits from a block.
func cpTxSizes(ctx context.Context, ln *latNet, cs ...cpCommit) ([]int, error) {
	rpc, err := client.NewClientFromNode(ln.Node(0).RPC)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, c := range cs {
		h, err := hex.DecodeString(c.res.TxHash)
		if err != nil {
			return nil, err
		}
		r, err := rpc.Tx(ctx, h, false)
		if err != nil {
			return nil, fmt.Errorf("commit of epoch %d: %w", c.epoch, err)
		}
		out = append(out, len(r.Tx))
	}
	return out, nil
}

// cpDescribe is the state of the run for a failure message.
func cpDescribe(members []*cpMember, lead *cpMember, lc *cpLeaderChain, lbox *cpLeaderBox, sess *meeting.Session) string {
	var sb strings.Builder
	sent, inBlock, keyed, newest := 0, 0, 0, map[uint64]int{}
	for _, m := range members {
		m.mu.Lock()
		if !m.sent.IsZero() {
			sent++
		}
		if !m.requested.IsZero() {
			inBlock++
		}
		m.mu.Unlock()
		if e, _ := m.first(); e > 0 {
			keyed++
		}
		newest[m.newest()]++
	}
	fmt.Fprintf(&sb, "  leader at epoch %d; %d commits landed, %d refused; of %d members %d sent their request, %d saw it in a block, %d hold a key; members by newest epoch: %v\n",
		sess.Epoch(), len(lc.landed()), lc.refused(), len(members), sent, inBlock, keyed, newest)
	for _, c := range lc.landed() {
		posts := lbox.of(c.epoch)
		var each []time.Duration
		failed, last := 0, time.Time{}
		for _, p := range posts {
			each = append(each, p.done.Sub(p.start))
			last = latLater(last, p.done)
			if p.err != nil {
				failed++
			}
		}
		if len(posts) > 0 {
			fmt.Fprintf(&sb, "  epoch %d (%d members): the leader posted %d envelopes (%d failed), each p50 %s max %s, the last %s ago\n",
				c.epoch, len(c.members), len(posts), failed, latFmt(latPercentile(each, .5)), latFmt(latPercentile(each, 1)), latFmt(time.Since(last)))
		}
	}
	if d := lbox.busy(); d > 0 {
		fmt.Fprintf(&sb, "  the leader has a post under way for %s\n", latFmt(d))
	}
	listed := 0
	for _, m := range append([]*cpMember{lead}, members...) {
		m.mu.Lock()
		if m.nproblems > 0 && listed < 20 {
			listed++
			fmt.Fprintf(&sb, "  %s: %d problems, first: %s\n", m.p.name(), m.nproblems, strings.Join(m.problems, " | "))
		}
		m.mu.Unlock()
	}
	return sb.String()
}

func latLater(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
