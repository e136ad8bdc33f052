package meeting

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// ChainRosterHash computes the roster hash of members from their join
// requests as the chain holds them (read with proofs), the way the chain
// computes it to check a commit.
func ChainRosterHash(ctx context.Context, c Chain, meetingID []byte, members []meetingtypes.MemberRef) ([]byte, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return nil, err
	}
	roster := make([]meetingtypes.Member, len(members))
	for i, ref := range members {
		r, err := snap.Request(ctx, meetingID, ref.UserId, ref.DeviceId)
		if err != nil {
			return nil, fmt.Errorf("member %s/%s: %w", ref.UserId, ref.DeviceId, err)
		}
		roster[i] = meetingtypes.Member{UserId: ref.UserId, DeviceId: ref.DeviceId, EphPkHash: meetingtypes.EphKeyHash(r.EphPk)}
	}
	meetingtypes.SortMembers(roster)
	return meetingtypes.RosterHash(meetingID, roster), nil
}

// CommitNext commits the epoch after the current one (read with a proof)
// with members, their roster hash as ChainRosterHash computes it, and the
// given key commitment: the by-hand commit of `parley meeting commit`. A
// running leader session commits through Commit with the keys it holds.
func CommitNext(ctx context.Context, c Chain, d Device, meetingID []byte, members []meetingtypes.MemberRef, commitment []byte, reason meetingtypes.Reason) (uint64, *sdk.TxResponse, error) {
	m, err := provenMeeting(ctx, c, meetingID)
	if err != nil {
		return 0, nil, err
	}
	rosterHash, err := ChainRosterHash(ctx, c, meetingID, members)
	if err != nil {
		return 0, nil, err
	}
	epoch := m.Epoch + 1
	res, err := Commit(ctx, c, d, meetingID, epoch, members, rosterHash, commitment, reason)
	return epoch, res, err
}
