package chain

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// isTransport says whether err means the node did not give an answer (it
// is down, unreachable, too slow, or cannot serve yet), as opposed to the
// node or the chain answering with an error. Only the first kind is worth
// asking another node: the chain would give the same answer everywhere.
func isTransport(err error) bool {
	if err == nil {
		return false
	}
	var rpcErr *rpctypes.RPCError
	if errors.As(err, &rpcErr) {
		// The node answered; leave it only if it cannot serve this yet.
		return nodeCannotServe(rpcErr.Message + " " + rpcErr.Data)
	}
	if st, ok := status.FromError(err); ok {
		// An ABCI query answered by the app comes back as a gRPC status.
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// Some layers flatten the error to text.
	msg := strings.ToLower(err.Error())
	for _, s := range []string{
		"post failed", "connection refused", "connection reset", "broken pipe", "eof",
		"i/o timeout", "deadline exceeded", "no such host", "network is unreachable",
		"failed to read response body", "error unmarshalling", // an answer, but not from a working node
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return nodeCannotServe(msg)
}

// nodeCannotServe recognises a node's answers that another node would not
// give: it is still syncing, or it does not index transactions.
func nodeCannotServe(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "catching up") || strings.Contains(msg, "indexing is disabled")
}

// isTxNotFound says whether err is a node answering that it has no
// committed transaction with the hash asked for.
func isTxNotFound(err error) bool {
	var rpcErr *rpctypes.RPCError
	return errors.As(err, &rpcErr) && strings.Contains(rpcErr.Message+" "+rpcErr.Data, "not found")
}
