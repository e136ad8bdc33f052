package sfutest

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// maxRecorded bounds the packets kept per slot; the oldest half goes
// when it is reached.
const maxRecorded = 20000

// Packet is one packet a client received on a slot.
type Packet struct {
	Mid    string
	SSRC   uint32
	Seq    uint16
	TS     uint32
	Marker bool
	At     time.Time
	// Payload is the RTP payload; for video, Body is what follows the
	// VP8 descriptor and VP8 the parsed descriptor.
	Payload []byte
	Body    []byte
	VP8     codecs.VP8Packet
	// Level is the audio level extension byte, when present.
	Level    byte
	HasLevel bool
}

// Tag is the payload's tag, if it has one.
func (p Packet) Tag() (Tag, bool) {
	if p.Body != nil {
		return ParseTag(p.Body, true)
	}
	return ParseTag(p.Payload, false)
}

// KeyStart reports whether the packet starts a VP8 key frame.
func (p Packet) KeyStart() bool {
	return p.Body != nil && p.VP8.S == 1 && p.VP8.PID == 0 && len(p.Body) > 0 && p.Body[0]&1 == 0
}

func (c *Client) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	if tr := recv.RTPTransceiver(); tr != nil {
		mid = tr.Mid()
	}
	levelID := extID(recv.GetParameters().HeaderExtensions, "urn:ietf:params:rtp-hdrext:ssrc-audio-level")
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.ssrc[mid] = uint32(t.SSRC())
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		rec := Packet{Mid: mid, SSRC: p.SSRC, Seq: p.SequenceNumber, TS: p.Timestamp, Marker: p.Marker, At: time.Now(), Payload: slices.Clone(p.Payload)}
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			var v codecs.VP8Packet
			if body, err := v.Unmarshal(rec.Payload); err == nil {
				rec.VP8, rec.Body = v, body
			}
		} else if levelID != 0 {
			if ext := p.GetExtension(levelID); len(ext) == 1 {
				rec.Level, rec.HasLevel = ext[0], true
			}
		}
		c.mu.Lock()
		list := append(c.recv[mid], rec)
		if len(list) > maxRecorded {
			list = slices.Clone(list[len(list)/2:])
		}
		c.recv[mid] = list
		c.count[mid]++
		c.mu.Unlock()
	}
}

// Packets returns the packets received on slots whose mid starts with
// prefix, since the given time, in arrival order per slot.
func (c *Client) Packets(prefix string, since time.Time) []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Packet
	for mid, list := range c.recv {
		if !strings.HasPrefix(mid, prefix) {
			continue
		}
		for _, p := range list {
			if !p.At.Before(since) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Received counts every packet received on slot mid, recorded or not.
func (c *Client) Received(mid string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[mid]
}

// Senders counts the packets received on slots with the prefix since the
// given time by the member their tags name.
func (c *Client) Senders(prefix string, since time.Time) map[string]int {
	out := map[string]int{}
	for _, p := range c.Packets(prefix, since) {
		if t, ok := p.Tag(); ok {
			out[t.Member]++
		}
	}
	return out
}

// SlotSSRC is the SSRC the relay sends a slot with, once a packet came.
func (c *Client) SlotSSRC(mid string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ssrc[mid]
}

// SendPLI asks the relay n times, at once, for a key frame on slot mid.
func (c *Client) SendPLI(mid string, n int) error {
	ssrc := c.SlotSSRC(mid)
	for range n {
		if err := c.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			return err
		}
	}
	return nil
}

// SendPrefs sends a prefs message pinning the members.
func (c *Client) SendPrefs(pins ...string) error {
	body, err := json.Marshal(map[string][]string{"pin": pins})
	if err != nil {
		return err
	}
	return c.DC.Send(append([]byte{0x02}, body...))
}

func (c *Client) record(data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) >= maxRecorded {
		c.msgs = slices.Clone(c.msgs[len(c.msgs)/2:])
	}
	c.msgs = append(c.msgs, slices.Clone(data))
}

// Messages returns the data channel messages of type typ received so far.
func (c *Client) Messages(typ byte) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]byte
	for _, m := range c.msgs {
		if len(m) > 0 && m[0] == typ {
			out = append(out, m)
		}
	}
	return out
}

// SlotInfo is one slot of a slots message.
type SlotInfo struct {
	Member string `json:"member"`
	Layer  string `json:"layer"`
}

// Slots is the last slots message received, by slot mid.
func (c *Client) Slots() map[string]SlotInfo {
	msgs := c.Messages(0x01)
	var m struct {
		Slots map[string]SlotInfo `json:"slots"`
	}
	if len(msgs) == 0 || json.Unmarshal(msgs[len(msgs)-1][1:], &m) != nil || m.Slots == nil {
		return map[string]SlotInfo{}
	}
	return m.Slots
}
