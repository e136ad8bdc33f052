package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"

	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

func TestIsTransport(t *testing.T) {
	postFailed := func(err error) error {
		return fmt.Errorf("post failed: %w", &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: err})
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", postFailed(syscall.ECONNREFUSED), true},
		{"reset", postFailed(syscall.ECONNRESET), true},
		{"eof", postFailed(io.EOF), true},
		{"attempt timeout", postFailed(context.DeadlineExceeded), true},
		{"flattened", errors.New("post failed: Post \"http://x\": dial tcp: connection refused"), true},
		{"garbage answer", errors.New("502 Bad Gateway. error unmarshalling: invalid character '<'"), true},
		{"catching up", fmt.Errorf("x. %w", &rpctypes.RPCError{Code: -32603, Message: "Internal error", Data: "endpoint is closed while node is catching up"}), true},
		{"tx not found", fmt.Errorf("x. %w", &rpctypes.RPCError{Code: -32603, Message: "Internal error", Data: "tx (AB) not found"}), false},
		{"not found", status.Error(codes.NotFound, "user nobody not found"), false},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad id"), false},
		{"app error", status.Error(codes.Unknown, "user already registered: invalid request"), false},
		{"sdk error", sdkerrors.ErrWrongSequence.Wrap("expected 1, got 2"), false},
		{"unavailable", status.Error(codes.Unavailable, "down"), true},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, isTransport(tc.err))
		})
	}
}

func TestNodeList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		node  string
		nodes []string
		want  []string
	}{
		{"one", "tcp://a:1", nil, []string{"tcp://a:1"}},
		{"comma list", " tcp://a:1 ,tcp://b:2,", nil, []string{"tcp://a:1", "tcp://b:2"}},
		{"both", "tcp://a:1", []string{"tcp://b:2", "tcp://a:1"}, []string{"tcp://a:1", "tcp://b:2"}},
		{"only nodes", "", []string{"tcp://b:2"}, []string{"tcp://b:2"}},
		{"none", " , ", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, nodeList(Config{Node: tc.node, Nodes: tc.nodes}))
		})
	}
	_, err := New(Config{Node: ",", ChainID: "x"})
	require.Error(t, err)
	c, err := New(Config{Node: "tcp://127.0.0.1:1,tcp://127.0.0.1:2", ChainID: "x"})
	require.NoError(t, err)
	require.Equal(t, "tcp://127.0.0.1:1", c.Node())
}

func TestStaleConn(t *testing.T) {
	for msg, want := range map[string]bool{
		`post failed: Post "http://127.0.0.1:26657": EOF`:             true,
		"read tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer": true,
		"write tcp: broken pipe":                                      true,
		"dial tcp 127.0.0.1:1: connect: connection refused":           false,
		"context deadline exceeded":                                   false,
	} {
		if got := staleConn(errors.New(msg)); got != want {
			t.Errorf("staleConn(%q) = %v, want %v", msg, got, want)
		}
	}
}
