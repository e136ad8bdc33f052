package meeting_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// TestEphemeralKeysHeal: after each periodic rekey every member rotates
// its ephemeral key on chain; the next periodic epoch is sealed to the
// new key, so a copy of the old key opens nothing later; on disk only the
// newest key is kept (encrypted), and a removed member's keys are erased.
func TestEphemeralKeysHeal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, bob := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	h.run(alice, id, func(c *meeting.Config) { c.RotateEvery = 2 * time.Second })
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	stolen, err := bob.eph.Load(id, bob.d) // a copy of bob's first key
	require.NoError(t, err)
	stolenHash := keyschedule.EphemeralKeyHash(stolen.PublicKey().Bytes())
	h.run(bob, id, nil)

	// Bob rotates after the first periodic rekey; then wait for a
	// periodic epoch whose roster lists his new key.
	waitFor(t, "bob to rotate his key", func() bool {
		for _, e := range bob.rec.all() {
			if _, ok := e.(meeting.EventRotated); ok {
				return true
			}
		}
		return false
	})
	// Until an epoch sealed to the new key is installed, what is sealed to
	// the old one must still open: bob keeps it (in memory).
	var healed uint64
	keptOld := true
	waitFor(t, "an epoch sealed to bob's new key", func() bool {
		if n, hash, ok := installedEphHash(ctx, bob, id); ok && !bytes.Equal(hash, stolenHash[:]) {
			healed = n
			return true
		}
		has := false
		for _, k := range bob.s.EphemeralKeys() {
			has = has || string(k.PublicKey().Bytes()) == string(stolen.PublicKey().Bytes())
		}
		keptOld = keptOld && has
		return false
	})
	require.True(t, keptOld, "bob dropped his previous key while his newest epoch was still sealed to it")
	// Nothing from that epoch on was sealed to the stolen key, and bob's
	// envelope for it does not open with it.
	for _, d := range h.box.Posted(stolenHash) {
		var env keyschedule.Envelope
		require.NoError(t, env.Unmarshal(d.Body))
		require.Less(t, env.Epoch, healed, "epoch %d was sealed to the old key", env.Epoch)
	}
	newHash := keyschedule.EphemeralKeyHash(bob.s.EphemeralKey().PublicKey().Bytes())
	opened := false
	for _, d := range h.box.Posted(newHash) {
		var env keyschedule.Envelope
		require.NoError(t, env.Unmarshal(d.Body))
		if env.Epoch != healed {
			continue
		}
		snap, err := bob.c.Reader().Latest(ctx)
		require.NoError(t, err)
		e, err := snap.Epoch(ctx, id, healed)
		require.NoError(t, err)
		kctx, err := keyschedule.NewContext(h.net.ChainID, id, healed, e.RosterHash)
		require.NoError(t, err)
		_, err = keyschedule.Open(&env, stolen, keyschedule.Expectation{Context: kctx, KeyCommitment: e.KeyCommitment,
			LeaderPubKey: alice.d.Key.PublicKey(), LeaderUser: "alice", LeaderDevice: "laptop"})
		require.ErrorIs(t, err, keyschedule.ErrNotForMe, "the old key opens a later epoch")
		opened = true
	}
	require.True(t, opened, "bob's envelope of epoch %d was found", healed)
	onDisk, err := bob.eph.Load(id, bob.d)
	require.NoError(t, err)
	require.NotEqual(t, stolen.PublicKey().Bytes(), onDisk.PublicKey().Bytes(), "the old key is gone from disk")

	// Removed: bob's keys are erased.
	alice.s.Remove("bob", "phone")
	require.ErrorIs(t, bob.ended(t, 30*time.Second), meeting.ErrRemoved)
	files, _ := filepath.Glob(filepath.Join(bob.eph.Dir, "*", "*.eph*"))
	require.Empty(t, files, "a removed member's ephemeral keys are erased")
	_, err = os.Stat(bob.eph.Dir)
	require.NoError(t, err)
}

// TestKeysHealWithoutPeriodicRekeys: the leader's periodic rekey never
// comes (members keep joining, and each epoch restarts its clock); bob
// rotates all the same after the first epoch once his key is older than
// his RotateEvery.
func TestKeysHealWithoutPeriodicRekeys(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, bob, carol := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone"), h.device("carol", "carol", "tablet")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	h.run(alice, id, func(c *meeting.Config) { c.RotateEvery = time.Hour })
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	h.run(bob, id, func(c *meeting.Config) { c.RotateEvery = time.Second })
	waitFor(t, "bob's first epoch", func() bool { _, ok := bob.rec.newestEpoch(); return ok })
	first, _ := bob.rec.newestEpoch()
	time.Sleep(1500 * time.Millisecond)
	_, err = meeting.Join(ctx, carol.c, carol.eph, carol.d, id, "")
	require.NoError(t, err)
	h.run(carol, id, nil)
	waitFor(t, "bob to rotate after carol's join", func() bool {
		for _, e := range bob.rec.all() {
			if r, ok := e.(meeting.EventRotated); ok && r.Epoch > first.Number {
				return true
			}
		}
		return false
	})
	for _, e := range alice.rec.all() {
		if k, ok := e.(meeting.EventKey); ok {
			snap, err := alice.c.Reader().Latest(ctx)
			require.NoError(t, err)
			ep, err := snap.Epoch(ctx, id, k.Epoch)
			require.NoError(t, err)
			require.NotEqual(t, meetingtypes.Reason_REASON_ROTATE, ep.Reason, "epoch %d is a periodic rekey", k.Epoch)
		}
	}
}

// TestRotationOfUnknownFateLands: bob's rotation is sent but its wait for
// the block ends first (as when his node goes down or the chain halts),
// and the chain takes it all the same. The leader's next epoch is then
// sealed to bob's new key, and bob, who kept it as a candidate, must get
// that envelope and install the epoch: before the fix his mailbox stayed
// subscribed to his old keys only, and he stayed on his last epoch for
// good (TestFaults, after the halt).
func TestRotationOfUnknownFateLands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, bob, id, first := rotatingMeeting(t, ctx)

	// Bob's session sends with a client that stops waiting for every
	// transaction at once: each one it sends is of unknown fate, and lands.
	impatient, err := verify.Open(ctx, verify.Config{
		Chain: chain.Config{Nodes: []string{h.net.RPC}, ChainID: h.net.ChainID, KeyringDir: h.net.KeyringDir,
			KeyringBackend: "test", From: "bob", CommitTimeout: time.Millisecond},
		State: verify.State{Anchor: h.net.Anchor(t)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = impatient.Close() })
	h.run(bob, id, func(c *meeting.Config) { c.Chain = impatient })

	waitFor(t, "bob to be told his rotation's fate is unknown", func() bool {
		for _, p := range bob.rec.problems() {
			if strings.Contains(p.Err.Error(), "not known whether the chain took it") {
				return true
			}
		}
		return false
	})
	// The rotation lands; an epoch sealed to bob's new key must install.
	waitFor(t, "bob to install an epoch sealed to his rotated key", func() bool {
		_, hash, ok := installedEphHash(ctx, bob, id)
		return ok && !bytes.Equal(hash, first[:])
	})
}

// rotatingMeeting starts alice's meeting, rotating every 2 s, and bob's
// request to join it (his session is the caller's to run); first is the
// hash of bob's ephemeral key as he asked.
func rotatingMeeting(t *testing.T, ctx context.Context) (h *harness, bob *hdev, id []byte, first [32]byte) {
	t.Helper()
	h = newHarness(t, ctx)
	alice := h.device("alice", "alice", "laptop")
	bob = h.device("bob", "bob", "phone")
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	h.run(alice, id, func(c *meeting.Config) { c.RotateEvery = 2 * time.Second })
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	firstKey, err := bob.eph.Load(id, bob.d)
	require.NoError(t, err)
	return h, bob, id, keyschedule.EphemeralKeyHash(firstKey.PublicKey().Bytes())
}

// unprovingChain is bob's chain client whose node, for each rotation of
// his ephemeral key, takes the transaction into a block but cannot prove
// its outcome (as a node that lacks the height does while the chain
// halts): the rotation's fate is unknown to bob, though it landed.
type unprovingChain struct{ *verify.Client }

func (c unprovingChain) Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, err := c.Client.Broadcast(ctx, msgs...)
	if err != nil || len(msgs) != 1 {
		return res, err
	}
	if _, rotation := msgs[0].(*meetingtypes.MsgRotateEphKey); !rotation {
		return res, err
	}
	return res, &verify.UnprovenTxError{Hash: res.TxHash, Err: errors.New("tx not found (the test's node)")}
}

// TestRotationOfUnprovenOutcomeLands: a rotation that a node reports in a
// block but whose outcome cannot be proven is of unknown fate, like one
// whose wait ended: bob keeps the new key beside the old, and when the
// chain shows it landed, he installs the epoch sealed to it. (The faults
// test found a member who dropped the key on this error and was locked
// out of every later epoch.)
func TestRotationOfUnprovenOutcomeLands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, bob, id, first := rotatingMeeting(t, ctx)
	h.run(bob, id, func(c *meeting.Config) { c.Chain = unprovingChain{bob.c} })

	waitFor(t, "bob to be told his rotation's fate is unknown", func() bool {
		for _, p := range bob.rec.problems() {
			if strings.Contains(p.Err.Error(), "not known whether the chain took it") && strings.Contains(p.Err.Error(), "could not be proven") {
				return true
			}
		}
		return false
	})
	waitFor(t, "bob to install an epoch sealed to his rotated key", func() bool {
		_, hash, ok := installedEphHash(ctx, bob, id)
		return ok && !bytes.Equal(hash, first[:])
	})
}

// installedEphHash returns p's newest installed epoch and the ephemeral
// key hash its proven roster lists for p (ok false if there is none yet).
func installedEphHash(ctx context.Context, p *hdev, id []byte) (uint64, []byte, bool) {
	ep, ok := p.rec.newestEpoch()
	if !ok {
		return 0, nil, false
	}
	// A member installs an epoch up to a block before a proven read shows
	// it (early.go): read it from the state after its block.
	snap, err := p.c.Reader().At(ctx, ep.Height)
	if err != nil {
		return 0, nil, false
	}
	e, err := snap.Epoch(ctx, id, ep.Number)
	if err != nil {
		return 0, nil, false
	}
	i := meetingtypes.SenderIndex(e.Members, p.d.UserID, p.d.DeviceID)
	if i < 0 {
		return 0, nil, false
	}
	return ep.Number, e.Members[i].EphPkHash, true
}
