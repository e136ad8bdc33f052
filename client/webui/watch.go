package webui

import (
	"context"
	"fmt"
	"time"

	"github.com/parleynet/parley/client/meeting"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// watch reports the chain's view of the meeting and the node's health.
func (c *controller) watch() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.cfg.Chain.Status(ctx)
	if err != nil {
		c.notice("error", "chain", "No chain node answers: "+err.Error()+". The call goes on with its current keys; joins, removals and rekeys wait for the chain.")
		return
	}
	h := st.Height
	c.mu.Lock()
	epoch := uint64(0)
	if c.lastEp != nil {
		epoch = c.lastEp.Epoch
	}
	c.node = st.Node
	c.mu.Unlock()
	switch {
	case st.Halted:
		c.notice("error", "chain", fmt.Sprintf("The chain is halted: no new block since %s (height %d); too many validators may be down. "+
			"The call goes on under its current key (%d); joins, removals and new keys wait until blocks resume.", st.BlockTime.Format("15:04:05"), h, epoch))
	case st.CatchingUp:
		c.notice("warn", "chain", "The chain node "+st.Node+" is still catching up with the chain.")
	default:
		c.notice("info", "chain", "")
	}
	c.mu.Lock()
	id, p, b := c.id, c.part, c.bridge
	c.mu.Unlock()
	if p == nil {
		return
	}
	msg := meetingMsg{Type: "meeting", Height: h, Pending: []deviceInfo{}}
	if m, err := c.cfg.Chain.Meeting().Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id}); err == nil {
		msg.Leader = meeting.DeviceRef{User: m.Meeting.LeaderUser, Device: m.Meeting.LeaderDevice}.String()
		msg.StartsAt = m.Meeting.StartsAt
	}
	if reqs, err := c.cfg.Chain.Meeting().JoinRequests(ctx, &meetingtypes.QueryJoinRequestsRequest{MeetingId: id}); err == nil {
		for _, r := range reqs.Requests {
			if r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_PENDING {
				continue
			}
			removed := p.Session().RemovedEarlier(r.UserId, r.DeviceId)
			screened, wrong := p.Session().Screened(r.UserId, r.DeviceId)
			if removed || screened {
				msg.Pending = append(msg.Pending, deviceInfo{User: r.UserId, Device: r.DeviceId, RemovedEarlier: removed, WrongPasscode: wrong})
			}
		}
	}
	for _, s := range p.Engine().Stats() {
		msg.Peers = append(msg.Peers, peerInfo{Member: meeting.DeviceRef{User: s.UserID, Device: s.DeviceID}.String(), State: s.State, Epoch: s.RecvEpoch, Decrypted: s.FramesDecrypted, Rejected: s.Rejected.Total()})
	}
	if b != nil {
		msg.Rejects = b.rejects.Load()
	}
	c.send(msg)
}
