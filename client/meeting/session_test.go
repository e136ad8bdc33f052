package meeting_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/sframe"
	"github.com/parleynet/parley/internal/nettest"
	mbox "github.com/parleynet/parley/node/mailbox"
	"github.com/parleynet/parley/node/mailbox/mailboxtest"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// recorder collects a session's events.
type recorder struct {
	mu     sync.Mutex
	events []meeting.Event
	epKeys map[uint64][]byte // copies of the epoch keys the session handed down
	epochs []meeting.Epoch   // the epochs handed down, without their keys
	newest uint64
}

// onEpoch keeps a copy of each epoch's key (the session clears its own).
func (r *recorder) onEpoch(ep meeting.Epoch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := ep
	cp.Key = nil
	cp.Members = append([]meeting.Member(nil), ep.Members...)
	r.epochs = append(r.epochs, cp)
	if r.epKeys == nil {
		r.epKeys = map[uint64][]byte{}
	}
	r.epKeys[ep.Number] = append([]byte(nil), ep.Key...)
	r.newest = max(r.newest, ep.Number)
}

// newestEpoch returns the newest epoch handed down (without its key).
func (r *recorder) newestEpoch() (meeting.Epoch, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.epochs) == 0 {
		return meeting.Epoch{}, false
	}
	return r.epochs[len(r.epochs)-1], true
}

// key returns the newest epoch and its key, as Session.Key once did.
func (r *recorder) key() (uint64, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.newest == 0 {
		return 0, nil, errors.New("no epoch yet")
	}
	return r.newest, r.epKeys[r.newest], nil
}

func (r *recorder) on(e meeting.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) keys() map[uint64]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint64]string{}
	for _, e := range r.events {
		if k, ok := e.(meeting.EventKey); ok {
			out[k.Epoch] = k.Code
		}
	}
	return out
}

func (r *recorder) all() []meeting.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]meeting.Event(nil), r.events...)
}

func (r *recorder) problems() []meeting.EventProblem {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []meeting.EventProblem
	for _, e := range r.events {
		if p, ok := e.(meeting.EventProblem); ok {
			out = append(out, p)
		}
	}
	return out
}

type party struct {
	member
	mbox    *mailbox.Client
	eph     meeting.EphStore
	rec     *recorder
	session *meeting.Session
	done    chan error
	cancel  context.CancelFunc
}

func (p *party) start(t *testing.T, ctx context.Context, id []byte) {
	t.Helper()
	p.rec = &recorder{}
	s, err := meeting.NewSession(meeting.Config{
		Chain: p.chain, Mailbox: p.mbox, Device: p.dev, MeetingID: id,
		Eph: p.eph, OnEvent: p.rec.on, OnEpoch: p.rec.onEpoch,
	})
	require.NoError(t, err)
	p.session = s
	runCtx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	p.done = make(chan error, 1)
	go func() { p.done <- s.Run(runCtx) }()
}

// onOneKey says whether a and b hold the same newest epoch with the same
// key.
func onOneKey(a, b *hdev) bool {
	ea, ka, err1 := a.rec.key()
	eb, kb, err2 := b.rec.key()
	return err1 == nil && err2 == nil && ea == eb && string(ka) == string(kb)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSessionsAgreeRemoveEquivocateClaim runs three sessions on a real
// in-process chain: all derive the same key and security code; after a
// removal the removed member cannot open the new envelope nor decrypt
// frames of the new epoch; an equivocating leader is caught; a member
// claims leadership after the leader times out and the meeting goes on.
func TestSessionsAgreeRemoveEquivocateClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	net := nettest.New(t, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"))
	require.NoError(t, err)
	// Two real mailbox nodes, gossiping over CometBFT p2p, that check
	// every envelope's sender against the chain. Parties use different
	// nodes, so every key envelope crosses the gossip link.
	nodes := mailboxtest.StartNetwork(t, 2, mailboxtest.Line, mbox.Config{ChainID: net.ChainID, Keys: chainKeys{net.Client(t, "alice")}})
	nodeOf := 0

	mk := func(account, user, device string) *party {
		k, err := st.Create(user, device, nil, keystore.CreateOptions{Unencrypted: true})
		require.NoError(t, err)
		c := net.Verified(t, account)
		_, err = identity.Register(ctx, c, user, device, k)
		require.NoError(t, err)
		mc, err := mailbox.New(mailbox.Config{Nodes: []string{nodes[nodeOf%2].Addr}, ChainID: net.ChainID, User: user, Device: device, Key: k})
		require.NoError(t, err)
		t.Cleanup(func() { _ = mc.Close() })
		nodeOf++
		return &party{member: member{meeting.Device{UserID: user, DeviceID: device, Key: k}, c}, mbox: mc, eph: meeting.EphStore{Dir: t.TempDir()}}
	}
	alice, bob, carol := mk("alice", "alice", "laptop"), mk("bob", "bob", "phone"), mk("carol", "carol", "desk")

	id, _, err := meeting.Create(ctx, alice.chain, alice.eph, alice.dev, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	for _, p := range []*party{bob, carol} {
		_, err := meeting.Request(ctx, p.chain, p.eph, p.dev, id, nil)
		require.NoError(t, err)
	}
	for _, p := range []*party{alice, bob, carol} {
		p.start(t, ctx, id)
	}

	// Everyone reaches the epoch with all three, with one key and one code.
	var epochAll uint64
	waitFor(t, "a 3-member epoch installed everywhere", func() bool {
		e, k, err := carol.rec.key()
		if err != nil {
			return false
		}
		e2, k2, err2 := bob.rec.key()
		e1, k1, err1 := alice.rec.key()
		if err1 != nil || err2 != nil || e != e1 || e != e2 {
			return false
		}
		require.Equal(t, k1, k)
		require.Equal(t, k1, k2)
		epochAll = e
		return true
	})
	require.Equal(t, alice.session.Code(), bob.session.Code())
	require.Equal(t, alice.session.Code(), carol.session.Code())
	require.Regexp(t, `^\d{5}( \d{5}){5}$`, alice.session.Code())

	// Carol's frame under the shared epoch decrypts for bob.
	roster, err := alice.chain.Meeting().Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: id})
	require.NoError(t, err)
	n := len(roster.Epoch.Members)
	carolIdx := uint32(meetingtypes.SenderIndex(roster.Epoch.Members, "carol", "desk"))
	_, mkAll, _ := alice.rec.key()
	carolSender, err := sframe.NewSender()
	require.NoError(t, err)
	require.NoError(t, carolSender.SetEpoch(epochAll, mkAll, carolIdx))
	bobRing, err := sframe.NewKeyring()
	require.NoError(t, err)
	require.NoError(t, bobRing.SetEpoch(epochAll, mkAll, n))
	frame, err := carolSender.Encrypt(nil, sframe.CodecOpus, []byte{0xfc, 1, 2, 3, 4})
	require.NoError(t, err)
	_, err = bobRing.Decrypt(nil, sframe.CodecOpus, frame)
	require.NoError(t, err)

	// Alice removes carol: carol's session ends with ErrRemoved (and
	// erases her ephemeral key), the others agree on a new key carol does
	// not have.
	carolEph, err := carol.eph.Load(id, carol.dev)
	require.NoError(t, err)
	alice.session.Remove("carol", "desk")
	select {
	case err := <-carol.done:
		require.ErrorIs(t, err, meeting.ErrRemoved)
	case <-time.After(45 * time.Second):
		t.Fatal("carol's session did not see the removal")
	}
	var epochNoCarol uint64
	var mkNoCarol []byte
	waitFor(t, "alice and bob on a new epoch", func() bool {
		e1, k1, err1 := alice.rec.key()
		e2, k2, err2 := bob.rec.key()
		if err1 != nil || err2 != nil || e1 != e2 || e1 <= epochAll {
			return false
		}
		require.Equal(t, k1, k2)
		epochNoCarol, mkNoCarol = e1, k1
		return true
	})
	require.NotEqual(t, mkAll, mkNoCarol)
	require.Equal(t, alice.session.Code(), bob.session.Code())

	// Carol cannot open the envelope sent to bob for the new epoch (her
	// key, as copied before the removal erased it).
	bobPriv, err := bob.eph.Load(id, bob.dev)
	require.NoError(t, err)
	var env keyschedule.Envelope
	env.Epoch = 0
	func() {
		subCtx, stop := context.WithCancel(ctx)
		defer stop()
		got, err := bob.mbox.Subscribe(subCtx, bobPriv, id)
		require.NoError(t, err)
		for d := range got {
			require.NoError(t, env.Unmarshal(d.Body))
			if env.Epoch == epochNoCarol {
				return
			}
		}
	}()
	require.EqualValues(t, epochNoCarol, env.Epoch)
	er, err := alice.chain.Meeting().Epoch(ctx, &meetingtypes.QueryEpochRequest{MeetingId: id, Epoch: epochNoCarol})
	require.NoError(t, err)
	_, err = keyschedule.Open(&env, carolEph, keyschedule.Expectation{
		Context:       keyschedule.Context{ChainID: net.ChainID, MeetingID: id, Epoch: epochNoCarol, RosterHash: er.Epoch.RosterHash},
		KeyCommitment: er.Epoch.KeyCommitment, LeaderPubKey: alice.dev.Key.PublicKey(), LeaderUser: "alice", LeaderDevice: "laptop",
	})
	require.ErrorIs(t, err, keyschedule.ErrNotForMe)

	// Bob's frame in the new epoch: bob's own keyring decrypts; carol's
	// (holding only the old key) fails.
	bobIdx := uint32(meetingtypes.SenderIndex(er.Epoch.Members, "bob", "phone"))
	bobSender, err := sframe.NewSender()
	require.NoError(t, err)
	require.NoError(t, bobSender.SetEpoch(epochNoCarol, mkNoCarol, bobIdx))
	frame, err = bobSender.Encrypt(nil, sframe.CodecOpus, []byte{0xfc, 9, 9, 9})
	require.NoError(t, err)
	aliceRing, err := sframe.NewKeyring()
	require.NoError(t, err)
	require.NoError(t, aliceRing.SetEpoch(epochNoCarol, mkNoCarol, len(er.Epoch.Members)))
	_, err = aliceRing.Decrypt(nil, sframe.CodecOpus, frame)
	require.NoError(t, err)
	carolRing, err := sframe.NewKeyring()
	require.NoError(t, err)
	require.NoError(t, carolRing.SetEpoch(epochAll, mkAll, n))
	_, err = carolRing.Decrypt(nil, sframe.CodecOpus, frame)
	require.Error(t, err)

	// An equivocating leader: an envelope for bob with another key under
	// the same epoch (a fake next epoch's commitment cannot match it).
	forged := keyschedule.NewMeetingKey()
	fctx := keyschedule.Context{ChainID: net.ChainID, MeetingID: id, Epoch: epochNoCarol + 1, RosterHash: er.Epoch.RosterHash}
	fenv, err := keyschedule.Seal(keyschedule.Leader{UserID: "alice", DeviceID: "laptop", Signer: alice.dev.Key}, fctx, forged,
		keyschedule.Recipient{UserID: "bob", DeviceID: "phone", PublicKey: bobPriv.PublicKey().Bytes()})
	require.NoError(t, err)
	fbody, err := fenv.Marshal()
	require.NoError(t, err)
	require.NoError(t, alice.mbox.Post(ctx, keyschedule.EphemeralKeyHash(bobPriv.PublicKey().Bytes()), id, meeting.KindMeetingKey, fbody))
	alice.session.Rotate() // the real next epoch, with its real commitment
	waitFor(t, "bob to report the equivocation", func() bool {
		for _, p := range bob.rec.problems() {
			if errors.Is(p.Err, keyschedule.ErrCommitmentMismatch) {
				return true
			}
		}
		return false
	})
	waitFor(t, "bob on the rotated epoch with alice's real key", func() bool {
		e1, k1, err1 := alice.rec.key()
		e2, k2, err2 := bob.rec.key()
		return err1 == nil && err2 == nil && e1 == e2 && e1 == epochNoCarol+1 && string(k1) == string(k2) && string(k2) != string(forged)
	})

	// Dave joins; then alice's client dies and dave leaves: a rekey is due,
	// bob (first in line after alice) claims after the timeout and rekeys.
	dave := mk("dave", "dave", "tab")
	_, err = meeting.Request(ctx, dave.chain, dave.eph, dave.dev, id, nil)
	require.NoError(t, err)
	dave.start(t, ctx, id)
	waitFor(t, "dave admitted", func() bool {
		e, _, err := dave.rec.key()
		e1, _, _ := bob.rec.key()
		return err == nil && e == e1
	})
	alice.cancel()
	<-alice.done
	dave.cancel()
	<-dave.done
	_, err = meeting.Leave(ctx, dave.chain, dave.eph, dave.dev, id)
	require.NoError(t, err)
	waitFor(t, "bob to claim leadership", func() bool {
		m, err := bob.chain.Meeting().Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
		return err == nil && m.Meeting.LeaderUser == "bob"
	})
	waitFor(t, "bob to commit a new epoch as leader", func() bool {
		m, err := bob.chain.Meeting().Meeting(ctx, &meetingtypes.QueryMeetingRequest{MeetingId: id})
		e, _, kerr := bob.rec.key()
		return err == nil && m.Meeting.RekeyDueHeight == 0 && kerr == nil && e == m.Meeting.Epoch
	})
	bob.cancel()
	<-bob.done
}

// chainKeys gives the mailbox nodes the chain's view of device keys.
type chainKeys struct {
	c interface {
		Identity() identitytypes.QueryClient
	}
}

func (k chainKeys) ActiveDeviceKey(ctx context.Context, user, device string) ([]byte, error) {
	d, err := k.c.Identity().Device(ctx, &identitytypes.QueryDeviceRequest{UserId: user, DeviceId: device})
	if err != nil {
		return nil, err
	}
	if d.Device.RevokedHeight != 0 {
		return nil, errors.New("device revoked")
	}
	return d.Device.Pubkey, nil
}
