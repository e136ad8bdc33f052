package sfu

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Mids of the wire contract (doc.go).
const (
	midAudio         = "pa" // the member's audio, sendonly
	midCamera        = "pv" // the member's camera, sendonly, maybe simulcast
	midScreen        = "ps" // the member's screen share, sendonly
	prefixAudioSlot  = "ra"
	prefixVideoSlot  = "rv"
	midScreenSlot    = "rs0"
	dataChannelLabel = "parley-relay"
)

// Simulcast RIDs of the camera, lowest first.
var cameraRIDs = [...]string{"q", "h", "f"}

// offerShape is what the relay learned from a valid offer: the mids it
// publishes on and how many slots of each kind it asks for.
type offerShape struct {
	publishes  map[string]bool // pa, pv, ps
	simulcast  []string        // RIDs on pv, empty when one stream
	audioSlots int
	videoSlots int
	screenSlot bool
}

// parseOffer checks an offer against the wire contract. Every refusal
// wraps ErrBadOffer and names the m-line and what was wrong with it.
func parseOffer(raw string) (offerShape, error) {
	var shape offerShape
	if len(raw) > maxOfferLen {
		return shape, fmt.Errorf("%w: %d bytes, at most %d", ErrBadOffer, len(raw), maxOfferLen)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(raw); err != nil {
		return shape, fmt.Errorf("%w: SDP does not parse: %v", ErrBadOffer, err)
	}
	shape.publishes = map[string]bool{}
	seen := map[string]bool{}
	var ra, rv []int
	dataChannel := false
	for i, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute(sdp.AttrKeyMID)
		where := fmt.Sprintf("m-line %d (mid %q)", i, mid)
		if mid == "" {
			return shape, fmt.Errorf("%w: m-line %d has no mid", ErrBadOffer, i)
		}
		if seen[mid] {
			return shape, fmt.Errorf("%w: %s: mid repeated", ErrBadOffer, where)
		}
		seen[mid] = true
		kind := md.MediaName.Media
		if kind == "application" {
			if dataChannel {
				return shape, fmt.Errorf("%w: %s: more than one application m-line", ErrBadOffer, where)
			}
			dataChannel = true
			continue
		}
		if kind != "audio" && kind != "video" {
			return shape, fmt.Errorf("%w: %s: media %q, want audio, video or application", ErrBadOffer, where, kind)
		}
		role, index, ok := midRole(mid)
		if !ok {
			return shape, fmt.Errorf("%w: %s: unknown mid", ErrBadOffer, where)
		}
		if want := roleKind(role); kind != want {
			return shape, fmt.Errorf("%w: %s: media %q, want %q", ErrBadOffer, where, kind, want)
		}
		dir := direction(md)
		if err := checkCodec(md, kind); err != nil {
			return shape, fmt.Errorf("%w: %s: %v", ErrBadOffer, where, err)
		}
		rids, err := sendRIDs(md)
		if err != nil {
			return shape, fmt.Errorf("%w: %s: %v", ErrBadOffer, where, err)
		}
		if len(rids) > 0 && mid != midCamera {
			return shape, fmt.Errorf("%w: %s: simulcast only on %s", ErrBadOffer, where, midCamera)
		}
		switch role {
		case midAudio, midCamera, midScreen:
			if dir != "sendonly" {
				return shape, fmt.Errorf("%w: %s: direction %s, want sendonly", ErrBadOffer, where, dir)
			}
			shape.publishes[mid] = true
			if mid == midCamera {
				shape.simulcast = rids
			}
		default:
			if dir != "recvonly" {
				return shape, fmt.Errorf("%w: %s: direction %s, want recvonly", ErrBadOffer, where, dir)
			}
			switch role {
			case prefixAudioSlot:
				ra = append(ra, index)
			case prefixVideoSlot:
				rv = append(rv, index)
			default:
				shape.screenSlot = true
			}
		}
	}
	if !dataChannel {
		return shape, fmt.Errorf("%w: no data channel (application m-line) for %q", ErrBadOffer, dataChannelLabel)
	}
	var err error
	if shape.audioSlots, err = countSlots(prefixAudioSlot, ra, maxAudioSlots); err != nil {
		return shape, err
	}
	if shape.videoSlots, err = countSlots(prefixVideoSlot, rv, maxVideoSlots); err != nil {
		return shape, err
	}
	return shape, nil
}

// midRole maps a mid to its role: one of the p* mids itself, or a slot
// prefix with its index.
func midRole(mid string) (role string, index int, ok bool) {
	switch mid {
	case midAudio, midCamera, midScreen:
		return mid, 0, true
	case midScreenSlot:
		return midScreenSlot, 0, true
	}
	for _, prefix := range []string{prefixAudioSlot, prefixVideoSlot} {
		rest, found := strings.CutPrefix(mid, prefix)
		if !found || rest == "" || len(rest) > 3 || (len(rest) > 1 && rest[0] == '0') {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			continue
		}
		return prefix, n, true
	}
	return "", 0, false
}

func roleKind(role string) string {
	if role == midAudio || role == prefixAudioSlot {
		return "audio"
	}
	return "video"
}

// countSlots checks that the slot indexes are 0..n-1, n at most max.
func countSlots(prefix string, idx []int, max int) (int, error) {
	if len(idx) > max {
		return 0, fmt.Errorf("%w: %d %s* slots, at most %d", ErrBadOffer, len(idx), prefix, max)
	}
	// The mids are distinct, so n indexes all below n are 0..n-1.
	for _, i := range idx {
		if i >= len(idx) {
			return 0, fmt.Errorf("%w: slot %s%d without all of %s0..%s%d before it", ErrBadOffer, prefix, i, prefix, prefix, i-1)
		}
	}
	return len(idx), nil
}

// direction is the m-line's direction attribute, sendrecv when absent.
func direction(md *sdp.MediaDescription) string {
	for _, a := range md.Attributes {
		switch a.Key {
		case "sendonly", "recvonly", "sendrecv", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}

// checkCodec requires the contract's payload type with the contract's
// codec on the m-line: 96 VP8/90000 for video, 111 opus/48000/2 for audio.
func checkCodec(md *sdp.MediaDescription, kind string) error {
	pt, want := strconv.Itoa(VP8PayloadType), "vp8/90000"
	if kind == "audio" {
		pt, want = strconv.Itoa(OpusPayloadType), "opus/48000/2"
	}
	if !containsString(md.MediaName.Formats, pt) {
		return fmt.Errorf("payload type %s (%s) not offered", pt, want)
	}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		gotPT, codec, _ := strings.Cut(a.Value, " ")
		if gotPT != pt {
			continue
		}
		if !strings.EqualFold(codec, want) {
			return fmt.Errorf("payload type %s is %s, want %s", pt, codec, want)
		}
		return nil
	}
	return fmt.Errorf("payload type %s has no rtpmap", pt)
}

// sendRIDs returns the RIDs of an a=simulcast:send line, checking each is
// one of the camera's and declared by an a=rid line.
func sendRIDs(md *sdp.MediaDescription) ([]string, error) {
	sim, ok := md.Attribute("simulcast")
	if !ok {
		return nil, nil
	}
	dir, list, _ := strings.Cut(strings.TrimSpace(sim), " ")
	if dir != "send" {
		return nil, fmt.Errorf("simulcast %q, want send", sim)
	}
	declared := map[string]bool{}
	for _, a := range md.Attributes {
		if a.Key == "rid" {
			id, _, _ := strings.Cut(a.Value, " ")
			declared[id] = true
		}
	}
	var rids []string
	for _, alt := range strings.Split(list, ";") {
		rid := strings.TrimPrefix(alt, "~")
		if !containsString(cameraRIDs[:], rid) {
			return nil, fmt.Errorf("simulcast RID %q, want one of q, h, f", rid)
		}
		if !declared[rid] {
			return nil, fmt.Errorf("simulcast RID %q has no a=rid line", rid)
		}
		if containsString(rids, rid) {
			return nil, fmt.Errorf("simulcast RID %q repeated", rid)
		}
		rids = append(rids, rid)
	}
	return rids, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
