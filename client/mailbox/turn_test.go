package mailbox_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/parleynet/parley/client/mailbox"
	nodemailbox "github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
	"github.com/parleynet/parley/node/turn"
	"github.com/parleynet/parley/node/turn/turntest"
)

type signer struct{ k ed25519.PrivateKey }

func (s signer) SignMessage(msg []byte) []byte { return ed25519.Sign(s.k, msg) }
func (s signer) PublicKey() ed25519.PublicKey  { return s.k.Public().(ed25519.PublicKey) }

type issuer struct{ s *turn.Server }

func (i issuer) IssueTURN(subject string) (nodemailbox.TURNCredential, error) {
	c := i.s.Issue(subject)
	return nodemailbox.TURNCredential{URLs: i.s.URLs(), Username: c.Username, Password: c.Password, Expires: c.Expires}, nil
}

// TestRelays: the client skips a node that does not relay and gets a
// credential from the next, which a real TURN server then accepts.
func TestRelays(t *testing.T) {
	keys := mailboxtest.NewKeys()
	alice := keys.Add("alice", "laptop")
	plain := mailboxtest.StartNode(t, nodemailbox.Config{Keys: keys})
	relaying := mailboxtest.StartNode(t, nodemailbox.Config{Keys: keys})
	srv, err := turn.New(turn.Config{UDP: []string{"127.0.0.1:0"}, PublicIP: net.ParseIP("127.0.0.1"), Secret: turntest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	if err := relaying.EnableRelay(issuer{srv}, nodemailbox.RelayConfig{}); err != nil {
		t.Fatal(err)
	}
	newClient := func(d *mailboxtest.Device) *mailbox.Client {
		c, err := mailbox.New(mailbox.Config{
			Nodes: []string{plain.Addr, relaying.Addr}, ChainID: mailboxtest.ChainID,
			User: d.User, Device: d.Device, Key: signer{d.Key},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	ctx := context.Background()
	relays, err := newClient(alice).Relays(ctx, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(relays) != 1 || relays[0].Node != relaying.Addr || len(relays[0].URLs) != 2 || !strings.Contains(relays[0].Username, ":") {
		t.Fatalf("relays %+v", relays)
	}

	mallory := mailboxtest.NewKeys().Add("mallory", "laptop")
	_, err = newClient(mallory).Relays(ctx, nil, 0)
	if !errors.Is(err, mailbox.ErrNoRelay) || !strings.Contains(err.Error(), "RELAY_DISABLED") || !strings.Contains(err.Error(), "UNKNOWN_SENDER") {
		t.Fatalf("an unregistered device: %v", err)
	}
}
