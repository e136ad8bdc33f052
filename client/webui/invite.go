package webui

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// An invite link names a chain and a meeting:
//
//	parley:join?chain=<chain-id>&meeting=<32 hex digits>
//
// A bare meeting ID (32 hex digits) is accepted as an invite to the
// client's own chain.

// inviteLink returns the invite link of a meeting.
func inviteLink(chainID string, id []byte) string {
	return "parley:join?" + url.Values{"chain": {chainID}, "meeting": {hex.EncodeToString(id)}}.Encode()
}

// parseInvite reads an invite link or a bare meeting ID, for a client on
// chainID.
func parseInvite(s, chainID string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("enter a meeting ID or an invite link")
	}
	if !strings.Contains(s, ":") {
		return parseID(s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "parley" || u.Opaque != "join" {
		return nil, fmt.Errorf("%q is not an invite link: want parley:join?chain=…&meeting=… or a 32-digit meeting ID", clip(s))
	}
	q := u.Query()
	if c := q.Get("chain"); c != chainID {
		return nil, fmt.Errorf("this invite is for chain %q, but this client is connected to %q", clip(c), chainID)
	}
	return parseID(q.Get("meeting"))
}

func parseID(s string) ([]byte, error) {
	id, err := hex.DecodeString(s)
	if err != nil || len(id) != meetingtypes.MeetingIDSize {
		return nil, fmt.Errorf("meeting ID %q: want %d hex digits", clip(s), 2*meetingtypes.MeetingIDSize)
	}
	return id, nil
}

// clip shortens what a person typed for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
