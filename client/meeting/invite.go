package meeting

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Invite is what an invite carries: the chain, the meeting and the
// chain's trust anchor as the inviter's client holds it ("HEIGHT:HASH").
// It comes in three forms, all read by ParseInvite:
//
//	http://127.0.0.1:8765/join#<payload>   signed by the leader (invitesigned.go)
//	parley:join?chain=<chain-id>&meeting=<32 hex digits>&trust=<height>:<hash>
//	<32 hex digits>                         a bare meeting ID, on the client's own chain
//
// The anchor is public; no form is a secret.
type Invite struct {
	ChainID   string
	MeetingID []byte
	Trust     string // "" when the link has none
	// Signed is the leader's statement when the invite is a signed link;
	// nil for the older forms. VerifyInvite checks it.
	Signed *SignedInvite
}

// Link returns the invite link: the clickable signed link when the invite
// is signed, else the parley:join form.
func (inv Invite) Link() string {
	if inv.Signed != nil {
		return DefaultUIBase + "/join#" + inv.Signed.Payload()
	}
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
	if !strings.Contains(s, ":") && !strings.Contains(s, "#") {
		id, err := parseID(s)
		return Invite{MeetingID: id}, err
	}
	if signed, ok, err := parseSignedLink(s); ok || err != nil {
		if err != nil {
			return Invite{}, err
		}
		return signed.Invite(), nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "parley" || u.Opaque != "join" {
		return Invite{}, fmt.Errorf("%q is not an invite link: want http://…/join#…, parley:join?chain=…&meeting=… or a 32-digit meeting ID", clip(s))
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

// parseSignedLink reads http(s)://HOST/join#PAYLOAD (any host: the link
// names the inviter's default port, the receiver's page may be elsewhere)
// or a bare #PAYLOAD; ok says whether s has that shape.
func parseSignedLink(s string) (inv *SignedInvite, ok bool, err error) {
	before, frag, found := strings.Cut(s, "#")
	if !found {
		return nil, false, nil
	}
	if before != "" {
		u, err := url.Parse(before)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "/join" {
			return nil, false, nil
		}
	}
	inv, err = parsePayload(frag)
	return inv, true, err
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
