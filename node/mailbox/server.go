package mailbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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
	turn       atomic.Pointer[relay]     // nil: the node does not relay
	media      atomic.Pointer[mediaGate] // nil: the node runs no media relay

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
		return nil, toStatus(fmt.Errorf("%w: envelope: missing", mailboxv1.ErrMalformedRequest))
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
		return toStatus(fmt.Errorf("%w: challenge_id: want %d bytes, got %d", mailboxv1.ErrMalformedRequest, mailboxv1.ChallengeIDSize, n))
	}
	if n := len(req.GetAnswer()); n != mailboxv1.ChallengeAnswerSize {
		return toStatus(fmt.Errorf("%w: answer: want %d bytes, got %d", mailboxv1.ErrMalformedRequest, mailboxv1.ChallengeAnswerSize, n))
	}
	if n := len(req.GetMeetingId()); n != 0 && n != mailboxv1.MeetingIDSize {
		return toStatus(fmt.Errorf("%w: meeting_id: want empty or %d bytes, got %d", mailboxv1.ErrMalformedRequest, mailboxv1.MeetingIDSize, n))
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

// EnableRelay makes the server answer TurnCredentials with credentials
// from issuer, under cfg's checks. Until it is called, the server answers
// ErrRelayDisabled. Call it before serving.
func (s *Server) EnableRelay(issuer CredentialIssuer, cfg RelayConfig) error {
	r, err := newRelay(issuer, s.intake.verifier, cfg)
	if err != nil {
		return err
	}
	s.turn.Store(r)
	return nil
}

// TurnCredentials gives a registered, unrevoked device a short-lived
// credential for the node's TURN relay, once per signed request.
func (s *Server) TurnCredentials(ctx context.Context, req *mailboxv1.TurnCredentialsRequest) (*mailboxv1.TurnCredentialsResponse, error) {
	if s.closed() {
		return nil, toStatus(ErrClosed)
	}
	r := s.turn.Load()
	if r == nil {
		return nil, toStatus(fmt.Errorf("%w: ask another node", mailboxv1.ErrRelayDisabled))
	}
	resp, err := r.issue(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// EnableMediaRelay makes the server answer RelayConnect by handing
// admitted members' offers to mr, under cfg's checks. Until it is called,
// the server answers ErrMediaRelayDisabled. Call it before serving.
func (s *Server) EnableMediaRelay(mr MediaRelay, cfg MediaRelayConfig) error {
	g, err := newMediaGate(mr, s.intake.verifier, cfg)
	if err != nil {
		return err
	}
	s.media.Store(g)
	return nil
}

// RelayConnect connects a member of a meeting's current roster to the
// node's media relay, once per signed request.
func (s *Server) RelayConnect(ctx context.Context, req *mailboxv1.RelayConnectRequest) (*mailboxv1.RelayConnectResponse, error) {
	if s.closed() {
		return nil, toStatus(ErrClosed)
	}
	g := s.media.Load()
	if g == nil {
		return nil, toStatus(fmt.Errorf("%w: ask another node", mailboxv1.ErrMediaRelayDisabled))
	}
	resp, err := g.connect(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}
