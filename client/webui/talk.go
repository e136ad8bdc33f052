package webui

import (
	"fmt"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/callmsg"
	"github.com/parleynet/parley/client/meeting"
)

// What members say besides media: chat, a raised hand, reactions, display
// names (client/callmsg), carried by the call engine as in-call messages
// (signed by the sender's device key, sealed to each member of the
// current epoch). The page is told each with the sender's proven user and
// device; a display name is only what the sender calls itself.

// talkState is the controller's part of it, reset with each call.
type talkState struct {
	name      string                       // this device's display name
	raised    bool                         // this device's hand
	recording bool                         // this page records the call
	names     map[meeting.DeviceRef]string // the others' display names
	hands     map[meeting.DeviceRef]bool   // the others' raised hands
}

// talkMsg tells the page what a member said (chat, hand, react, name).
type talkMsg struct {
	Type     string `json:"type"` // "talk"
	What     string `json:"what"` // "chat", "hand", "react", "name"
	User     string `json:"user"`
	Device   string `json:"device"`
	Self     bool   `json:"self,omitempty"`
	Name     string `json:"name,omitempty"`     // the sender's display name, if it gave one
	Text     string `json:"text,omitempty"`     // chat
	Raised   bool   `json:"raised,omitempty"`   // hand
	Reaction string `json:"reaction,omitempty"` // react
	On       bool   `json:"on,omitempty"`       // record: recording
}

// say sends m to the members and shows it on this page as this device's.
func (c *controller) say(m callmsg.Message) error {
	body, err := callmsg.Encode(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	p, dev := c.part, c.dev
	switch m.Type {
	case callmsg.TypeName:
		c.talk.name = m.Text
	case callmsg.TypeHand:
		c.talk.raised = m.Raised
	case callmsg.TypeRecord:
		c.talk.recording = m.Raised
	}
	name := c.talk.name
	c.mu.Unlock()
	if p == nil || dev == nil {
		if m.Type == callmsg.TypeName {
			return nil // kept for the next call
		}
		return fmt.Errorf("not in a call")
	}
	if err := p.Engine().SendMessage(body); err != nil {
		return err
	}
	if m.Type != callmsg.TypeMute { // a request to another is not this page's to act on
		c.send(talkOf(m, dev.UserID, dev.DeviceID, name, true))
	}
	return nil
}

// onMessage takes a member's in-call message from the engine.
func (c *controller) onMessage(msg call.Message) {
	m, err := callmsg.Decode(msg.Body)
	if err != nil {
		c.logf("message from %s refused: %v", msg.From, err)
		return
	}
	ref := meeting.DeviceRef{User: msg.From.User, Device: msg.From.Device}
	c.logf("in-call message (type %d) from %s", m.Type, ref)
	c.mu.Lock()
	if c.talk.names == nil {
		c.talk.names, c.talk.hands = map[meeting.DeviceRef]string{}, map[meeting.DeviceRef]bool{}
	}
	switch m.Type {
	case callmsg.TypeName:
		c.talk.names[ref] = m.Text
	case callmsg.TypeHand:
		c.talk.hands[ref] = m.Raised
	}
	name := c.talk.names[ref]
	p, dev := c.part, c.dev
	c.mu.Unlock()
	if m.Type == callmsg.TypeMute {
		// Honoured only when the meeting's leader, as the last proven read
		// names it, asks this device; the page mutes its own microphone.
		if p == nil || dev == nil || m.Text != (meeting.DeviceRef{User: dev.UserID, Device: dev.DeviceID}).String() {
			return
		}
		if leader := p.Session().Leader(); leader != ref {
			c.logf("a mute request from %s, who does not lead the meeting (%s does), not honoured", ref, leader)
			return
		}
	}
	c.send(talkOf(m, ref.User, ref.Device, name, false))
}

// retell sends this device's name and raised hand to the members again,
// at each new epoch: a member who just joined learns them.
func (c *controller) retell(p interface{ SendMessage([]byte) error }) {
	c.mu.Lock()
	name, raised, recording := c.talk.name, c.talk.raised, c.talk.recording
	c.mu.Unlock()
	var out []callmsg.Message
	if name != "" {
		out = append(out, callmsg.Name(name))
	}
	if raised {
		out = append(out, callmsg.Hand(true))
	}
	if recording {
		out = append(out, callmsg.Recording(true))
	}
	for _, m := range out {
		if body, err := callmsg.Encode(m); err == nil {
			_ = p.SendMessage(body)
		}
	}
}

func talkOf(m callmsg.Message, user, device, name string, self bool) *talkMsg {
	t := &talkMsg{Type: "talk", User: user, Device: device, Self: self, Name: name}
	switch m.Type {
	case callmsg.TypeChat:
		t.What, t.Text = "chat", m.Text
	case callmsg.TypeHand:
		t.What, t.Raised = "hand", m.Raised
	case callmsg.TypeReaction:
		t.What, t.Reaction = "react", m.Reaction.String()
	case callmsg.TypeName:
		t.What = "name"
	case callmsg.TypeMute:
		t.What = "mute"
	case callmsg.TypeRecord:
		t.What, t.On = "record", m.Raised
	}
	return t
}

// sayFromPage turns a page's chat, hand, react or name request into a
// message.
func (c *controller) sayFromPage(m inbound) error {
	var msg callmsg.Message
	switch m.Type {
	case "chat":
		msg = callmsg.Chat(m.Text)
	case "name":
		msg = callmsg.Name(m.Text)
	case "hand":
		msg = callmsg.Hand(m.Raised)
	case "react":
		r, err := callmsg.ParseReaction(m.Reaction)
		if err != nil {
			return err
		}
		msg = callmsg.React(r)
	case "record":
		msg = callmsg.Recording(m.Raised)
	case "askmute":
		// The page offers this to the host only; the receivers decide
		// (onMessage): a request not from the proven leader is ignored.
		msg = callmsg.Mute(meeting.DeviceRef{User: m.User, Device: m.Device}.String())
	}
	return c.say(msg)
}
