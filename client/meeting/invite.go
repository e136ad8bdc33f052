package meeting

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Invite is what an invite link carries: the chain, the meeting and the
// chain's trust anchor as the inviter's client holds it ("HEIGHT:HASH"),
// so that whoever joins by the invite verifies the chain from the header
// the inviter trusts:
//
//	parley:join?chain=<chain-id>&meeting=<32 hex digits>&trust=<height>:<hash>
//
// The anchor is public; the link is no secret. A bare meeting ID (32 hex
// digits) is an invite to the client's own chain, without an anchor.
type Invite struct {
	ChainID   string
	MeetingID []byte
	Trust     string // "" when the link has none
}

// Link returns the invite link.
func (inv Invite) Link() string {
	q := url.Values{"chain": {inv.ChainID}, "meeting": {hex.EncodeToString(inv.MeetingID)}}
	if inv.Trust != "" {
		q.Set("trust", inv.Trust)
	}
	return "parley:join?" + q.Encode()
}

// ParseInvite reads an invite link, or a bare meeting ID (then ChainID and
// Trust are empty).
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Invite{}, fmt.Errorf("enter a meeting ID or an invite link")
	}
	if !strings.Contains(s, ":") {
		id, err := parseID(s)
		return Invite{MeetingID: id}, err
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "parley" || u.Opaque != "join" {
		return Invite{}, fmt.Errorf("%q is not an invite link: want parley:join?chain=…&meeting=… or a 32-digit meeting ID", clip(s))
	}
	q := u.Query()
	id, err := parseID(q.Get("meeting"))
	if err != nil {
		return Invite{}, err
	}
	if q.Get("chain") == "" {
		return Invite{}, fmt.Errorf("invite %q names no chain", clip(s))
	}
	return Invite{ChainID: q.Get("chain"), MeetingID: id, Trust: q.Get("trust")}, nil
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
