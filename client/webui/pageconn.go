package webui

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// maxPageMessage bounds what the page may send in one message (an SDP
// offer is a few kilobytes).
const maxPageMessage = 256 << 10

// maxCloseReason is the longest close reason a close frame carries
// (RFC 6455 5.5: 125 bytes of payload, 2 of them the code).
const maxCloseReason = 123

// closeWait is how long a connection the client closes with a reason may
// take to answer the close before it is cut.
const closeWait = time.Second

// pageConn is the WebSocket to the page: one writer goroutine, so that
// messages keep their order and a slow page cannot block the client.
type pageConn struct {
	ws      *websocket.Conn
	out     chan []byte
	once    sync.Once
	done    chan struct{}
	closing atomic.Bool // closeWith was called: take no more requests
}

func newPageConn(ws *websocket.Conn) *pageConn {
	p := &pageConn{ws: ws, out: make(chan []byte, 256), done: make(chan struct{})}
	ws.SetReadLimit(maxPageMessage)
	go p.writeLoop()
	return p
}

// send queues a message; when the page does not keep up, it is dropped
// (every message the client sends is repeated or superseded later).
func (p *pageConn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	select {
	case p.out <- b:
	case <-p.done:
	default:
	}
}

func (p *pageConn) writeLoop() {
	for {
		select {
		case <-p.done:
			return
		case b := <-p.out:
			_ = p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := p.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				p.close()
				return
			}
		}
	}
}

// readLoop hands each message to handle until the connection closes or
// closeWith is called.
func (p *pageConn) readLoop(handle func([]byte)) {
	defer p.close()
	for {
		kind, b, err := p.ws.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.TextMessage && !p.closing.Load() {
			handle(b)
		}
	}
}

// closeWith ends the connection with a close code and reason the page
// shows (protocol.go), and takes no more requests from it. The page's
// answer to the close ends readLoop; without one the connection is cut
// after closeWait.
func (p *pageConn) closeWith(code int, reason string) {
	p.closing.Store(true)
	reason = strings.ToValidUTF8(reason[:min(len(reason), maxCloseReason)], "")
	_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeWait))
	time.AfterFunc(closeWait, p.close)
}

// refuse is closeWith for a connection whose readLoop is not running: it
// waits for the page's answer to the close, at most closeWait.
func (p *pageConn) refuse(code int, reason string) {
	p.closeWith(code, reason)
	p.readLoop(func([]byte) {})
}

// isClosed reports whether the connection has ended or is ending.
func (p *pageConn) isClosed() bool {
	select {
	case <-p.done:
		return true
	default:
		return p.closing.Load()
	}
}

func (p *pageConn) close() {
	p.once.Do(func() {
		close(p.done)
		_ = p.ws.Close()
	})
}
