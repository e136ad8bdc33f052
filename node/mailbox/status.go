package mailbox

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// statusOf names each error of the mailbox on the wire: its gRPC code and
// the reason of its google.rpc.ErrorInfo detail. Checked in order: an
// error wrapping two sentinels takes the first.
var statusOf = []struct {
	err    error
	code   codes.Code
	reason string
}{
	{mailboxv1.ErrMalformedRequest, codes.InvalidArgument, mailboxv1.ReasonMalformedRequest},
	{mailboxv1.ErrInvalidEnvelope, codes.InvalidArgument, mailboxv1.ReasonInvalidEnvelope},
	{mailboxv1.ErrInvalidRecipientKey, codes.InvalidArgument, mailboxv1.ReasonInvalidRecipientKey},
	{mailboxv1.ErrInvalidChallenge, codes.InvalidArgument, mailboxv1.ReasonInvalidChallenge},
	{ErrExpired, codes.InvalidArgument, mailboxv1.ReasonExpired},
	{ErrFromFuture, codes.InvalidArgument, mailboxv1.ReasonFromFuture},
	{ErrStaleRequest, codes.InvalidArgument, mailboxv1.ReasonStaleRequest},
	{ErrBadSignature, codes.PermissionDenied, mailboxv1.ReasonBadSignature},
	{ErrUnknownSender, codes.PermissionDenied, mailboxv1.ReasonUnknownSender},
	{ErrChallengeFailed, codes.PermissionDenied, mailboxv1.ReasonChallengeFailed},
	{ErrReplayedRequest, codes.PermissionDenied, mailboxv1.ReasonReplayedRequest},
	{ErrNotMember, codes.PermissionDenied, mailboxv1.ReasonNotMember},
	{ErrRateLimited, codes.ResourceExhausted, mailboxv1.ReasonRateLimited},
	{ErrStoreFull, codes.ResourceExhausted, mailboxv1.ReasonStoreFull},
	{ErrSenderQuota, codes.ResourceExhausted, mailboxv1.ReasonSenderQuota},
	{ErrTooManyChallenges, codes.ResourceExhausted, mailboxv1.ReasonTooManyChallenges},
	{ErrTooManySubscribers, codes.ResourceExhausted, mailboxv1.ReasonTooManySubscribers},
	{ErrSlowSubscriber, codes.ResourceExhausted, mailboxv1.ReasonSlowSubscriber},
	{ErrTooManyRequests, codes.ResourceExhausted, mailboxv1.ReasonTooManyRequests},
	{ErrKeysUnavailable, codes.Unavailable, mailboxv1.ReasonKeysUnavailable},
	{ErrClosed, codes.Unavailable, mailboxv1.ReasonClosed},
	{mailboxv1.ErrRelayDisabled, codes.Unimplemented, mailboxv1.ReasonRelayDisabled},
	{mailboxv1.ErrMediaRelayDisabled, codes.Unimplemented, mailboxv1.ReasonMediaRelayDisabled},
	{mailboxv1.ErrBadOffer, codes.InvalidArgument, mailboxv1.ReasonBadOffer},
	{mailboxv1.ErrRelayFull, codes.ResourceExhausted, mailboxv1.ReasonRelayFull},
}

// toStatus maps the mailbox's errors to gRPC statuses: the code, the
// message (which names the field or limit) and the error's reason as a
// google.rpc.ErrorInfo detail. Errors of no known kind stay INTERNAL.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	for _, s := range statusOf {
		if !errors.Is(err, s.err) {
			continue
		}
		st := status.New(s.code, fmt.Sprint(err))
		if withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{Domain: mailboxv1.ErrorDomain, Reason: s.reason}); derr == nil {
			st = withInfo
		}
		return st.Err()
	}
	return status.Error(codes.Internal, fmt.Sprint(err))
}
