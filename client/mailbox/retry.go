package mailbox

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retryable says whether another node (or a later try) may succeed: the
// node is down or overloaded, as opposed to refusing the request itself.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted, codes.Internal, codes.Unknown, codes.ResourceExhausted:
		return true
	}
	return false
}
