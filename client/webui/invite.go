package webui

import (
	"fmt"

	"github.com/parleynet/parley/client/meeting"
)

// parseInvite reads an invite link or a bare meeting ID for a client on
// chainID; see meeting.Invite.
func parseInvite(s, chainID string) (meeting.Invite, error) {
	inv, err := meeting.ParseInvite(s)
	if err != nil {
		return inv, err
	}
	if inv.ChainID == "" {
		inv.ChainID = chainID
	}
	if inv.ChainID != chainID {
		return inv, fmt.Errorf("this invite is for chain %q, but this client is connected to %q", clip(inv.ChainID), chainID)
	}
	return inv, nil
}

// clip shortens what a person typed for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
