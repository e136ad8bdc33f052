package e2e_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
)

type signer struct{ key ed25519.PrivateKey }

func newSigner(t *testing.T) signer {
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return signer{k}
}

func (s signer) Sign(msg []byte) []byte       { return ed25519.Sign(s.key, msg) }
func (s signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }
func (s signer) device(chainID, user, dev string) *mailboxtest.Device {
	return &mailboxtest.Device{User: user, Device: dev, Key: s.key, ChainID: chainID}
}

func TestLocalnet(t *testing.T) {
	addr := os.Getenv("PARLEY_MAILBOX_ADDR")
	if addr == "" {
		t.Skip("set PARLEY_MAILBOX_ADDR and the variables of `scripts/localnet.sh env` to run against a localnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := chain.New(chain.Config{
		Node:           os.Getenv("PARLEY_NODE"),
		ChainID:        os.Getenv("PARLEY_CHAIN_ID"),
		KeyringDir:     os.Getenv("PARLEY_KEYRING_DIR"),
		KeyringBackend: os.Getenv("PARLEY_KEYRING_BACKEND"),
		From:           "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	chainID := c.ChainID()

	// A user with two devices; the second is then revoked.
	user := fmt.Sprintf("mbx%d", time.Now().UnixNano()%1_000_000_000)
	first, second := newSigner(t), newSigner(t)
	if _, err := identity.Register(ctx, c, user, "first", first); err != nil {
		t.Fatal(err)
	}
	approval, err := identity.Approve(ctx, c, user, "first", first, "second", second.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.AddDevice(ctx, c, approval, second); err != nil {
		t.Fatal(err)
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mb := mailboxv1.NewMailboxClient(conn)
	r := mailboxtest.NewRecipient(t)
	meeting := make([]byte, mailboxv1.MeetingIDSize)
	post := func(d *mailboxtest.Device, body string) (*mailboxv1.Envelope, error) {
		e := d.Envelope(r.Hash, meeting, []byte(body), time.Now())
		_, err := mb.Post(ctx, &mailboxv1.PostRequest{Envelope: e})
		return e, err
	}

	fromFirst, err := post(first.device(chainID, user, "first"), "from the first device")
	if err != nil {
		t.Fatalf("post by a registered device: %v", err)
	}
	fromSecond, err := post(second.device(chainID, user, "second"), "from the second device")
	if err != nil {
		t.Fatalf("post by an approved device: %v", err)
	}
	stream, err := r.Subscribe(ctx, mb, meeting)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*mailboxv1.Envelope{fromFirst, fromSecond} {
		got, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if mailboxv1.ID(got) != mailboxv1.ID(want) {
			t.Fatalf("received %q, want %q", got.Body, want.Body)
		}
	}

	if _, err := identity.Revoke(ctx, c, user, "second", "first", first); err != nil {
		t.Fatal(err)
	}
	_, err = post(second.device(chainID, user, "second"), "after the revocation")
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("post by a revoked device: %v, want PermissionDenied", err)
	}
	t.Logf("revoked device refused: %v", err)
	_, err = post(newSigner(t).device(chainID, user, "never-added"), "unknown")
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("post by an unknown device: %v, want PermissionDenied", err)
	}
	_, err = post(first.device("another-chain", user, "first"), "wrong chain")
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("post signed for another chain: %v, want PermissionDenied", err)
	}
}
