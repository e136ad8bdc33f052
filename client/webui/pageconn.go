package webui

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxPageMessage bounds what the page may send in one message (an SDP
// offer is a few kilobytes).
const maxPageMessage = 256 << 10

// pageConn is the WebSocket to the page: one writer goroutine, so that
// messages keep their order and a slow page cannot block the client.
type pageConn struct {
	ws   *websocket.Conn
	out  chan []byte
	once sync.Once
	done chan struct{}
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

// readLoop hands each message to handle until the connection closes.
func (p *pageConn) readLoop(handle func([]byte)) {
	defer p.close()
	for {
		kind, b, err := p.ws.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.TextMessage {
			handle(b)
		}
	}
}

func (p *pageConn) close() {
	p.once.Do(func() {
		close(p.done)
		_ = p.ws.Close()
	})
}
