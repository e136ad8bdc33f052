package call

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleynet/parley/internal/ids"
)

// In-call messages. A message (chat, a raised hand, a reaction, a display
// name: what it says is the application's, see client/callmsg) goes to
// every member of the current roster as a signal of kind KindMessage: like
// every signal it is signed by the sender's device key and sealed to each
// recipient's ephemeral key, so only the members of the epoch it is sent
// in can read it, no node can, and the sender a member is shown is the one
// whose device key the roster binds. It is never written to the chain.
// A member removed from the roster is sent nothing after, and what it
// sends is refused (an unknown sender).

// MaxMessageLen bounds a message body.
const MaxMessageLen = 4096

// A sender's messages are taken at most messageRate per second on
// average, in bursts of up to messageBurst: a member that floods the
// others is cut to that, and the rest is counted (MessagesDropped).
const (
	messageRate  = 5
	messageBurst = 20
)

// ErrMessageSize is a message body that is empty or over MaxMessageLen.
var ErrMessageSize = errors.New("call: message body must be 1 to 4096 bytes")

// Message is an in-call message as received: its authenticated sender
// and the sender's epoch when it sent it.
type Message struct {
	From  ids.DeviceRef
	Epoch uint64
	Body  []byte
}

// SendMessage sends body to every member of the current roster. It
// returns at once; the message is lost for a member whose signal queue is
// full (counted as Dropped).
func (e *Engine) SendMessage(body []byte) error {
	if len(body) == 0 || len(body) > MaxMessageLen {
		return fmt.Errorf("%w (%d bytes)", ErrMessageSize, len(body))
	}
	e.events.push(event{kind: evMessage, body: string(body)})
	return nil
}

// sendMessage runs on the loop: one signal per current peer.
func (e *Engine) sendMessage(body string) {
	for _, p := range e.peers {
		e.send(p, Signal{Kind: KindMessage, Session: e.keysSession, Message: body})
	}
}

// onMessage hands an authenticated message to Config.OnMessage, within
// the sender's rate.
func (e *Engine) onMessage(p *peer, s *Signal) {
	now := time.Now()
	if p.msgAt.IsZero() {
		p.msgTokens = messageBurst
	} else {
		p.msgTokens = min(messageBurst, p.msgTokens+now.Sub(p.msgAt).Seconds()*messageRate)
	}
	p.msgAt = now
	if p.msgTokens < 1 {
		e.sig.msgDropped.Add(1)
		return
	}
	p.msgTokens--
	if e.cfg.OnMessage != nil {
		e.cfg.OnMessage(Message{From: p.id, Epoch: s.Epoch, Body: []byte(s.Message)})
	}
}
