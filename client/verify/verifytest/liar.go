// Package verifytest has test helpers for client/verify, shipped the
// net/http/httptest way: a lying node to test that clients catch it.
package verifytest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Liar is a CometBFT RPC proxy in front of a real node that rewrites
// chosen requests and answers, as a modified node would. Rules are added
// with Lie and LieAsked; every rule that fired is counted, so a test can
// check that the lie was told before it checks that it was caught.
type Liar struct {
	// Addr is the proxy's RPC address (tcp://127.0.0.1:port), to give a
	// client in place of the real node's.
	Addr   string
	target string
	srv    *httptest.Server

	mu    sync.Mutex
	asked []askRule
	said  []sayRule
	told  map[string]int
}

// Call is one JSON-RPC call as the proxy sees it: params and result are
// decoded JSON (objects are map[string]any; CometBFT writes 64-bit
// numbers as strings, byte strings as base64 or hex).
type Call struct {
	Method string
	Params map[string]any
	Result map[string]any
}

type askRule struct {
	name string
	fn   func(*Call) bool
}

type sayRule struct {
	name string
	fn   func(*Call) bool
}

// NewLiar starts a proxy to target (a tcp:// or http:// RPC address) and
// stops it when the test ends. With no rules it is an honest proxy.
func NewLiar(t testing.TB, target string) *Liar {
	t.Helper()
	l := &Liar{target: "http://" + strings.TrimPrefix(strings.TrimPrefix(target, "tcp://"), "http://"), told: map[string]int{}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	l.Addr = "tcp://" + strings.TrimPrefix(l.srv.URL, "http://")
	return l
}

// LieAsked adds a rule that may rewrite a call's params before it reaches
// the node (for example to ask for an older height than the client did);
// fn returns true when it changed something. name counts in Told.
func (l *Liar) LieAsked(name string, fn func(c *Call) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, askRule{name, fn})
}

// Lie adds a rule that may rewrite a call's result before it reaches the
// client; fn returns true when it changed something.
func (l *Liar) Lie(name string, fn func(c *Call) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.said = append(l.said, sayRule{name, fn})
}

// Honest removes every rule.
func (l *Liar) Honest() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked, l.said = nil, nil
}

// Told returns how many times the named rule changed a call.
func (l *Liar) Told(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.told[name]
}

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func (l *Liar) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		// URI-style GETs and websockets are not used by the client.
		http.Error(w, "liar proxies JSON-RPC POSTs only", http.StatusBadRequest)
		return
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := &Call{Method: req.Method, Params: map[string]any{}}
	if len(req.Params) > 0 {
		_ = json.Unmarshal(req.Params, &call.Params)
	}
	l.mu.Lock()
	asked, said := l.asked, l.said
	l.mu.Unlock()
	for _, rule := range asked {
		if rule.fn(call) {
			l.count(rule.name)
		}
	}
	req.Params, _ = json.Marshal(call.Params)
	fwd, _ := json.Marshal(req)
	res, err := http.Post(l.target, "application/json", bytes.NewReader(fwd))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var resp rpcResponse
	if len(said) > 0 && json.Unmarshal(out, &resp) == nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, &call.Result); err == nil {
			changed := false
			for _, rule := range said {
				if rule.fn(call) {
					l.count(rule.name)
					changed = true
				}
			}
			if changed {
				resp.Result, _ = json.Marshal(call.Result)
				out, _ = json.Marshal(resp)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(out)
}

func (l *Liar) count(name string) {
	l.mu.Lock()
	l.told[name]++
	l.mu.Unlock()
}

// IsStoreQuery says whether c is an abci_query of key in store.
func (c *Call) IsStoreQuery(store string, key []byte) bool {
	if c.Method != "abci_query" {
		return false
	}
	path, _ := c.Params["path"].(string)
	data, _ := c.Params["data"].(string)
	return path == "/store/"+store+"/key" && strings.EqualFold(data, hex.EncodeToString(key))
}

// QueryValue returns the value of an abci_query result.
func (c *Call) QueryValue() []byte {
	resp, _ := c.Result["response"].(map[string]any)
	v, _ := resp["value"].(string)
	bz, _ := base64.StdEncoding.DecodeString(v)
	return bz
}

// SetQueryValue replaces the value of an abci_query result (its proof
// stays, and no longer matches).
func (c *Call) SetQueryValue(v []byte) {
	if resp, ok := c.Result["response"].(map[string]any); ok {
		resp["value"] = base64.StdEncoding.EncodeToString(v)
	}
}

// DropProof removes the proof of an abci_query result.
func (c *Call) DropProof() {
	if resp, ok := c.Result["response"].(map[string]any); ok {
		delete(resp, "proofOps")
		delete(resp, "proof_ops")
	}
}

// Int reads a CometBFT number (a JSON string or number) at path.
func (c *Call) Int(m map[string]any, key string) int64 {
	var n int64
	switch v := m[key].(type) {
	case string:
		_, _ = fmt.Sscan(v, &n)
	case float64:
		n = int64(v)
	}
	return n
}
