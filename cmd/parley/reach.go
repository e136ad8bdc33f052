package main

import (
	"fmt"
	"strings"

	"github.com/pion/stun/v3"
	"github.com/pion/webrtc/v4"
	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/mailbox"
)

// reachFlags are the flags of parley call and parley ui that say how a
// device reaches members on other networks (PROTOCOL.md section 11).
type reachFlags struct {
	iceServers []string
	relayOnly  bool
	relays     int
}

func (r *reachFlags) add(c *cobra.Command) {
	c.Flags().StringArrayVar(&r.iceServers, "ice-server", nil,
		"extra STUN or TURN server, as stun:HOST:PORT or turn:USER:PASS@HOST:PORT?transport=udp (repeatable)")
	c.Flags().BoolVar(&r.relayOnly, "relay-only", false,
		"send media through TURN relays only, so that no address of this device reaches the other members")
	c.Flags().IntVar(&r.relays, "relays", 2,
		"how many of the --mailbox nodes' TURN relays to use (0: none); a node that does not relay is skipped")
}

// build returns the call's Reach: the --ice-server servers, and the first
// --relays relays of the mailbox nodes, with credentials fetched for
// meetingID as the call needs them.
func (r *reachFlags) build(mb *mailbox.Client, meetingID []byte) (call.Reach, error) {
	reach := call.Reach{RelayOnly: r.relayOnly}
	for _, s := range r.iceServers {
		srv, err := parseICEServer(s)
		if err != nil {
			return call.Reach{}, err
		}
		reach.Servers = append(reach.Servers, srv)
	}
	if r.relays > 0 {
		reach.Relays = mb.RelaySource(meetingID, r.relays)
	} else if r.relayOnly && len(reach.Servers) == 0 {
		return call.Reach{}, fmt.Errorf("--relay-only needs a TURN server: --relays above 0 or a turn: --ice-server")
	}
	return reach, nil
}

// parseICEServer parses stun:HOST[:PORT] and turn(s):[USER:PASS@]HOST[:PORT][?transport=udp|tcp].
func parseICEServer(s string) (webrtc.ICEServer, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: want stun:HOST:PORT or turn:USER:PASS@HOST:PORT", s)
	}
	var user, pass string
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, ok = strings.Cut(rest[:at], ":")
		if !ok || user == "" {
			return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: credentials must be USER:PASS@", s)
		}
		rest = rest[at+1:]
	}
	u := scheme + ":" + rest
	parsed, err := stun.ParseURI(u)
	if err != nil {
		return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: %w", s, err)
	}
	isTURN := parsed.Scheme == stun.SchemeTypeTURN || parsed.Scheme == stun.SchemeTypeTURNS
	switch {
	case parsed.Port < 1 || parsed.Port > 65535:
		return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: port %d", s, parsed.Port)
	case isTURN && user == "":
		return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: a TURN server needs USER:PASS@", s)
	case !isTURN && user != "":
		return webrtc.ICEServer{}, fmt.Errorf("--ice-server %q: a STUN server takes no credentials", s)
	}
	return webrtc.ICEServer{URLs: []string{u}, Username: user, Credential: pass}, nil
}

// reachMailbox is parley ui's mailbox: this device's mailbox client, which
// also says how the page's calls reach other networks (webui.Reacher).
type reachMailbox struct {
	*mailbox.Client
	flags      *reachFlags
	mediaRelay bool
}

// MediaRelay implements webui.MediaRelayer: the nodes' media relays for
// the meeting's call, or none with --media-relay=false.
func (m reachMailbox) MediaRelay(meetingID []byte) call.MediaRelayDialer {
	if !m.mediaRelay {
		return nil
	}
	return m.Client.MediaRelay(meetingID)
}

// Reach implements webui.Reacher: the flags' Reach, relay-only when the
// flag or the page asks for it.
func (m reachMailbox) Reach(meetingID []byte, relayOnly bool) (call.Reach, error) {
	f := *m.flags
	f.relayOnly = f.relayOnly || relayOnly
	return f.build(m.Client, meetingID)
}
