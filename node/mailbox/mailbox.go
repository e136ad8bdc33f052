package mailbox

import (
	"context"
	"errors"
	"net"
	"time"

	"google.golang.org/grpc"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Config assembles a node's mailbox. ChainID and Keys are required; the
// rest take defaults. Clock, when set, is used wherever a part has none.
type Config struct {
	ChainID   string
	Keys      DeviceKeys
	Clock     Clock
	Store     StoreConfig
	Rate      RateConfig
	Challenge ChallengeConfig
	Reactor   ReactorConfig
}

// Mailbox is one node's mailbox: the store, the intake in front of it, the
// gossip reactor and the gRPC service.
type Mailbox struct {
	Store   *Store
	Intake  *Intake
	Reactor *Reactor
	Server  *Server

	clock Clock // Config.Clock, for EnableRelay
}

// ShutdownTimeout is how long Serve waits for calls in flight when it stops.
const ShutdownTimeout = 5 * time.Second

// New assembles a mailbox. Add m.Reactor to the CometBFT switch (it starts
// and stops with it), run m.Run and serve with m.Serve.
func New(cfg Config) (*Mailbox, error) {
	if cfg.Clock != nil {
		if cfg.Store.Clock == nil {
			cfg.Store.Clock = cfg.Clock
		}
		if cfg.Rate.Clock == nil {
			cfg.Rate.Clock = cfg.Clock
		}
		if cfg.Challenge.Clock == nil {
			cfg.Challenge.Clock = cfg.Clock
		}
	}
	verifier, err := NewVerifier(cfg.ChainID, cfg.Keys)
	if err != nil {
		return nil, err
	}
	store := NewStore(cfg.Store)
	intake := NewIntake(store, verifier, NewRateLimiter(cfg.Rate))
	reactor := NewReactor(intake, cfg.Reactor)
	return &Mailbox{
		Store:   store,
		Intake:  intake,
		Reactor: reactor,
		Server:  NewServer(intake, reactor, cfg.Challenge),
		clock:   cfg.Clock,
	}, nil
}

// EnableRelay makes the mailbox hand out credentials for the node's TURN
// relay (Server.EnableRelay). Config.Clock is used when cfg has none.
// Call it before Serve.
func (m *Mailbox) EnableRelay(issuer CredentialIssuer, cfg RelayConfig) error {
	if cfg.Clock == nil {
		cfg.Clock = m.clock
	}
	return m.Server.EnableRelay(issuer, cfg)
}

// EnableMediaRelay makes the mailbox admit members of current rosters to
// the node's media relay (Server.EnableMediaRelay). Config.Clock is used
// when cfg has none. Call it before Serve.
func (m *Mailbox) EnableMediaRelay(mr MediaRelay, cfg MediaRelayConfig) error {
	if cfg.Clock == nil {
		cfg.Clock = m.clock
	}
	return m.Server.EnableMediaRelay(mr, cfg)
}

// Run sweeps expired envelopes until ctx ends, then ends every
// subscription and closes the store. It returns nil.
func (m *Mailbox) Run(ctx context.Context) error {
	err := m.Store.Run(ctx)
	m.Server.Close()
	m.Store.Close()
	return err
}

// Serve serves the Mailbox gRPC service on lis until ctx ends, then ends
// the subscriptions and stops gracefully, forcibly after ShutdownTimeout.
// It returns nil after a stop through ctx, or the error that stopped the
// server otherwise. lis is closed either way.
func (m *Mailbox) Serve(ctx context.Context, lis net.Listener, opts ...grpc.ServerOption) error {
	codec := newDecodeCodec()
	gs := grpc.NewServer(append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(mailboxv1.MaxEnvelopeSize + 1024),
		grpc.ForceServerCodecV2(codec),
	}, opts...)...)
	gs.RegisterService(codec.serviceDesc(), m.Server)

	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	select {
	case err := <-served:
		gs.Stop()
		if err == nil {
			err = errors.New("mailbox: gRPC server stopped")
		}
		return err
	case <-ctx.Done():
	}
	m.Server.Close()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(ShutdownTimeout)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		gs.Stop()
		<-stopped
	}
	<-served
	return nil
}
