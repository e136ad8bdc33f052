package sfu

// What push and pull links share: labels, checks and waits.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// errLinkClosed ends a link's negotiation step when the link closed
// under it.
var errLinkClosed = errors.New("link closed")

// wantsKeyframe reports a PLI or FIR among pkts.
func wantsKeyframe(pkts []rtcp.Packet) bool {
	for _, p := range pkts {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			return true
		}
	}
	return false
}

// bridgeLabel is a pushed track's ID: its kind, and a camera layer's RID.
// The stream ID is the member's name. Labels are advisory: clients know
// senders by SFrame KID and frame signatures, never by a label.
func bridgeLabel(kind sourceKind, rid string) string {
	switch kind {
	case kindAudio:
		return "audio"
	case kindScreen:
		return "screen"
	}
	if rid != "" {
		return "camera-" + rid
	}
	return "camera"
}

// parseBridgeLabel is bridgeLabel's inverse for a track of the given
// media kind; ok is false for any other label.
func parseBridgeLabel(label string, kind webrtc.RTPCodecType) (sourceKind, string, bool) {
	if kind == webrtc.RTPCodecTypeAudio {
		return kindAudio, "", label == "audio"
	}
	if kind != webrtc.RTPCodecTypeVideo {
		return 0, "", false
	}
	switch label {
	case "screen":
		return kindScreen, "", true
	case "camera":
		return kindCamera, "", true
	}
	for _, rid := range cameraRIDs {
		if label == "camera-"+rid {
			return kindCamera, rid, true
		}
	}
	return 0, "", false
}

// waitGathered waits for a link's ICE gathering, at most gatherTimeout
// and never past Close.
func (r *Relay) waitGathered(gathered <-chan struct{}) error {
	t := time.NewTimer(gatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
		return nil
	case <-t.C:
		return ErrGathering
	case <-r.done:
		return errLinkClosed
	}
}

// checkBridgeOffer checks a peer's offer before pion sees it: it parses,
// has at most maxBridgeMLines m-lines, of which at most maxBridgeTracks
// send, and never asks the relay to send (a pull link only receives).
func checkBridgeOffer(raw string) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(raw); err != nil {
		return fmt.Errorf("%w: offer does not parse: %v", ErrBadPeerMessage, err)
	}
	if n := len(sd.MediaDescriptions); n > maxBridgeMLines {
		return fmt.Errorf("%w: offer of %d m-lines, at most %d", ErrBadPeerMessage, n, maxBridgeMLines)
	}
	sending, apps := 0, 0
	for i, md := range sd.MediaDescriptions {
		switch md.MediaName.Media {
		case "application":
			if apps++; apps > 1 {
				return fmt.Errorf("%w: m-line %d: more than one application m-line", ErrBadPeerMessage, i)
			}
			continue
		case "audio", "video":
		default:
			return fmt.Errorf("%w: m-line %d: media %q", ErrBadPeerMessage, i, md.MediaName.Media)
		}
		switch dir := direction(md); dir {
		case "sendonly":
			sending++
		case "inactive":
		default:
			return fmt.Errorf("%w: m-line %d: direction %s, want sendonly or inactive", ErrBadPeerMessage, i, dir)
		}
	}
	if sending > maxBridgeTracks {
		return fmt.Errorf("%w: offer of %d tracks, at most %d", ErrBadPeerMessage, sending, maxBridgeTracks)
	}
	return nil
}

// newLinkID picks a link ID; 0 is never one.
func newLinkID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// short is a peer ID shortened for logs.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
