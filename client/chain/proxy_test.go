package chain_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// action is what a proxy does with one JSON-RPC request.
type action int

const (
	forward action = iota // pass it to the node and its answer back
	silent                // accept it and never answer
	cut                   // pass it to the node, then drop the connection instead of answering
	frozen                // answer as a node whose chain has stopped: the same status, no new transaction
)

// rpcProxy stands between the client and a real node's CometBFT RPC on
// loopback, so a test can make that node stop answering, lose an answer,
// or look halted, at a moment it chooses.
type rpcProxy struct {
	Addr string // tcp://127.0.0.1:port, as a client is configured

	srv      *httptest.Server
	upstream string
	quit     chan struct{}

	mu     sync.Mutex
	policy func(method string) action
	status json.RawMessage // the status a frozen node keeps giving
	closed bool
}

func newProxy(t *testing.T, node string) *rpcProxy {
	t.Helper()
	p := &rpcProxy{
		upstream: "http://" + strings.TrimPrefix(node, "tcp://"),
		quit:     make(chan struct{}),
		policy:   func(string) action { return forward },
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.Addr = "tcp://" + p.srv.Listener.Addr().String()
	t.Cleanup(p.Close)
	return p
}

// set makes policy decide what happens to each request from now on.
func (p *rpcProxy) set(policy func(method string) action) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.policy = policy
}

// then forwards everything until a request for method has been
// forwarded, and does next to every request after it.
func then(method string, next action) func(string) action {
	var mu sync.Mutex
	done := false
	return func(m string) action {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return next
		}
		if m == method {
			done = true
		}
		return forward
	}
}

// Close stops the proxy: the node is gone, connections are refused.
func (p *rpcProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.quit)
	p.srv.CloseClientConnections()
	p.srv.Close()
}

type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Hash string `json:"hash"`
	} `json:"params"`
}

func (p *rpcProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req rpcRequest
	_ = json.Unmarshal(body, &req)
	p.mu.Lock()
	act := p.policy(req.Method)
	p.mu.Unlock()

	switch act {
	case silent:
		select {
		case <-r.Context().Done():
		case <-p.quit:
		}
		return
	case cut:
		if _, _, err := p.call(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case frozen:
		switch req.Method {
		case "status":
			st, err := p.frozenStatus()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			reply(w, req.ID, "result", st)
			return
		case "tx":
			reply(w, req.ID, "error", json.RawMessage(fmt.Sprintf(
				`{"code":-32603,"message":"Internal error","data":"tx (%s) not found"}`, strings.ToUpper(hashHex(req.Params.Hash)))))
			return
		}
	}
	code, out, err := p.call(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(out)
}

// call passes a request body to the node and returns its answer.
func (p *rpcProxy) call(body []byte) (int, []byte, error) {
	res, err := http.Post(p.upstream, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// frozenStatus is the node's status when the proxy first froze.
func (p *rpcProxy) frozenStatus() (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != nil {
		return p.status, nil
	}
	_, out, err := p.call([]byte(`{"jsonrpc":"2.0","id":-1,"method":"status","params":{}}`))
	if err != nil {
		return nil, err
	}
	var res struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	p.status = res.Result
	return p.status, nil
}

func reply(w http.ResponseWriter, id json.RawMessage, field string, v json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]json.RawMessage{"jsonrpc": json.RawMessage(`"2.0"`), "id": id, field: v})
}

// hashHex turns the tx hash parameter (base64 in CometBFT's JSON) to hex.
func hashHex(param string) string {
	var b []byte
	if err := json.Unmarshal([]byte(`"`+param+`"`), &b); err != nil {
		return param
	}
	return fmt.Sprintf("%X", b)
}

// deadAddr is a loopback address nothing listens on any more.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "tcp://" + addr
}
