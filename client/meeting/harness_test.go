package meeting_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/meeting/meetingtest"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/nettest"
)

// harness is a chain, an in-memory mailbox and a key store shared by the
// devices of one test.
type harness struct {
	t   *testing.T
	ctx context.Context
	net *nettest.Network
	st  *keystore.Store
	box *meetingtest.MemMailbox
}

func newHarness(t *testing.T, ctx context.Context) *harness {
	t.Helper()
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	require.NoError(t, err)
	return &harness{t: t, ctx: ctx, net: nettest.New(t, nettest.Options{}), st: st, box: meetingtest.NewMemMailbox()}
}

// hdev is one registered device with a verified chain client.
type hdev struct {
	d    meeting.Device
	c    *verify.Client
	fo   *failovers
	eph  meeting.EphStore
	rec  *recorder
	s    *meeting.Session
	done chan error
	stop context.CancelFunc
}

// open makes a verified chain client paying with account over nodes
// (default: the network's node).
func (h *harness) open(account string, fo *failovers, nodes ...string) *verify.Client {
	h.t.Helper()
	if len(nodes) == 0 {
		nodes = []string{h.net.RPC}
	}
	c, err := verify.Open(h.ctx, verify.Config{
		Chain: chain.Config{Nodes: nodes, ChainID: h.net.ChainID, KeyringDir: h.net.KeyringDir, KeyringBackend: "test", From: account, OnFailover: fo.add},
		State: verify.State{Anchor: h.net.Anchor(h.t)},
	})
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = c.Close() })
	return c
}

// device registers user/device paying with account, its client on nodes.
func (h *harness) device(account, user, device string, nodes ...string) *hdev {
	h.t.Helper()
	k, err := h.st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
	require.NoError(h.t, err)
	p := &hdev{fo: &failovers{}, eph: meeting.EphStore{Dir: h.t.TempDir()}, rec: &recorder{}}
	p.c = h.open(account, p.fo, nodes...)
	_, err = identity.Register(h.ctx, p.c, user, device, k)
	require.NoError(h.t, err)
	p.d = meeting.Device{UserID: user, DeviceID: device, Key: k}
	return p
}

// run starts p's session in meeting id; cfg may adjust its config.
func (h *harness) run(p *hdev, id []byte, cfg func(*meeting.Config)) {
	h.t.Helper()
	p.rec = &recorder{}
	c := meeting.Config{
		Chain: p.c, Mailbox: h.box.From(p.d.UserID, p.d.DeviceID), Device: p.d, MeetingID: id, Eph: p.eph,
		OnEvent: p.rec.on, OnEpoch: p.rec.onEpoch,
	}
	if cfg != nil {
		cfg(&c)
	}
	s, err := meeting.NewSession(c)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(h.ctx)
	p.s, p.done, p.stop = s, make(chan error, 1), cancel
	go func() { p.done <- s.Run(ctx) }()
	h.t.Cleanup(cancel)
}

// ended waits for p's session to end and returns why.
func (p *hdev) ended(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(within):
		t.Fatalf("%s/%s's session did not end within %s", p.d.UserID, p.d.DeviceID, within)
		return nil
	}
}
