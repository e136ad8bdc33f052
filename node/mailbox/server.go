package mailbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Relay forwards envelopes accepted from clients to the other nodes; the
// Reactor is one.
type Relay interface {
	Relay(e *mailboxv1.Envelope)
}

// Server implements the Mailbox gRPC service on top of an Intake.
type Server struct {
	intake     *Intake
	store      *Store
	challenges *challenges
	relay      Relay

	done      chan struct{}
	closeOnce sync.Once
}

var _ mailboxv1.MailboxServer = (*Server)(nil)

// NewServer returns a server that takes envelopes through intake and hands
// the accepted ones to relay (which may be nil for a node without peers).
func NewServer(intake *Intake, relay Relay, cfg ChallengeConfig) *Server {
	return &Server{
		intake:     intake,
		store:      intake.Store(),
		challenges: newChallenges(cfg),
		relay:      relay,
		done:       make(chan struct{}),
	}
}

// Close ends every subscription and refuses further calls. Call it before
// stopping the gRPC server, so that GracefulStop does not wait for streams
// that never end.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}

func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Post checks and stores an envelope and gossips it to the other nodes.
func (s *Server) Post(ctx context.Context, req *mailboxv1.PostRequest) (*mailboxv1.PostResponse, error) {
	if s.closed() {
		return nil, toStatus(ErrClosed)
	}
	if req.GetEnvelope() == nil {
		return nil, status.Error(codes.InvalidArgument, "envelope: missing")
	}
	id, err := s.intake.Accept(ctx, req.Envelope)
	if errors.Is(err, ErrDuplicate) {
		return &mailboxv1.PostResponse{Id: id[:], Duplicate: true}, nil
	}
	if err != nil {
		return nil, toStatus(err)
	}
	if s.relay != nil {
		s.relay.Relay(req.Envelope)
	}
	return &mailboxv1.PostResponse{Id: id[:]}, nil
}

// Challenge seals a single-use answer to the recipient key.
func (s *Server) Challenge(_ context.Context, req *mailboxv1.ChallengeRequest) (*mailboxv1.ChallengeResponse, error) {
	if s.closed() {
		return nil, toStatus(ErrClosed)
	}
	resp, err := s.challenges.issue(req.GetRecipientPk())
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// Subscribe redeems a challenge and streams the envelopes for its key:
// the stored ones, then live ones, until the client goes away, the
// subscriber falls too far behind, or the server closes.
func (s *Server) Subscribe(req *mailboxv1.SubscribeRequest, stream mailboxv1.Mailbox_SubscribeServer) error {
	if s.closed() {
		return toStatus(ErrClosed)
	}
	if n := len(req.GetChallengeId()); n != mailboxv1.ChallengeIDSize {
		return status.Errorf(codes.InvalidArgument, "challenge_id: want %d bytes, got %d", mailboxv1.ChallengeIDSize, n)
	}
	if n := len(req.GetAnswer()); n != mailboxv1.ChallengeAnswerSize {
		return status.Errorf(codes.InvalidArgument, "answer: want %d bytes, got %d", mailboxv1.ChallengeAnswerSize, n)
	}
	if n := len(req.GetMeetingId()); n != 0 && n != mailboxv1.MeetingIDSize {
		return status.Errorf(codes.InvalidArgument, "meeting_id: want empty or %d bytes, got %d", mailboxv1.MeetingIDSize, n)
	}
	to, err := s.challenges.redeem(req.ChallengeId, req.Answer)
	if err != nil {
		return toStatus(err)
	}
	sub, backlog, err := s.store.Subscribe(to, req.MeetingId)
	if err != nil {
		return toStatus(err)
	}
	defer sub.Close()

	ctx := stream.Context()
	for _, e := range backlog {
		if err := stream.Send(e); err != nil {
			return err
		}
	}
	for {
		select {
		case e := <-sub.C():
			if err := stream.Send(e); err != nil {
				return err
			}
		case <-sub.Done():
			return toStatus(sub.Err())
		case <-s.done:
			return toStatus(ErrClosed)
		case <-ctx.Done():
			return toStatus(ctx.Err())
		}
	}
}

// toStatus maps the mailbox's errors to gRPC status codes, keeping the
// message, which names the field or limit.
func toStatus(err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, mailboxv1.ErrInvalidEnvelope),
		errors.Is(err, mailboxv1.ErrInvalidRecipientKey),
		errors.Is(err, mailboxv1.ErrInvalidChallenge),
		errors.Is(err, ErrExpired),
		errors.Is(err, ErrFromFuture):
		code = codes.InvalidArgument
	case errors.Is(err, ErrBadSignature),
		errors.Is(err, ErrUnknownSender),
		errors.Is(err, ErrChallengeFailed):
		code = codes.PermissionDenied
	case errors.Is(err, ErrRateLimited),
		errors.Is(err, ErrStoreFull),
		errors.Is(err, ErrSenderQuota),
		errors.Is(err, ErrTooManyChallenges),
		errors.Is(err, ErrTooManySubscribers),
		errors.Is(err, ErrSlowSubscriber):
		code = codes.ResourceExhausted
	case errors.Is(err, ErrKeysUnavailable), errors.Is(err, ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, fmt.Sprint(err))
}
