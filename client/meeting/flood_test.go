package meeting_test

import (
	"context"
	"crypto/hpke"
	"crypto/rand"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
)

// floodBox is the test's mailbox for the flooded member: what others post
// goes through the shared in-memory mailbox; on top, the test pushes
// deliveries straight into the member's subscription (none stored, so the
// heap measures what the session keeps).
type floodBox struct {
	meeting.Mailbox
	flood chan meeting.Delivery
}

func (f floodBox) Subscribe(ctx context.Context, priv hpke.PrivateKey, id []byte) (<-chan meeting.Delivery, error) {
	in, err := f.Mailbox.Subscribe(ctx, priv, id)
	if err != nil {
		return nil, err
	}
	out := make(chan meeting.Delivery)
	go func() {
		defer close(out)
		for {
			var d meeting.Delivery
			var ok bool
			select {
			case d, ok = <-in:
			case d, ok = <-f.flood:
			case <-ctx.Done():
				return
			}
			if !ok {
				return
			}
			select {
			case out <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestEnvelopeFloodIsBounded floods a joining member with 100,000
// well-formed key envelopes: from a registered device no key is expected
// from, claiming to be the leader with a wrong signature, and validly
// signed by the leader for epochs that never come. The member keeps at
// most a few per sender and 32 in all (so its heap stays within a few
// MiB), counts what it refused, and still installs the leader's real key.
func TestEnvelopeFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := newHarness(t, ctx)
	alice, bob := h.device("alice", "alice", "laptop"), h.device("bob", "bob", "phone")
	mallory, err := h.st.Create("mallory", "dev", nil, keystore.CreateOptions{Unencrypted: true})
	require.NoError(t, err)
	id, _, err := meeting.Create(ctx, alice.c, alice.eph, alice.d, meeting.CreateOptions{Duration: time.Hour})
	require.NoError(t, err)
	_, err = meeting.Join(ctx, bob.c, bob.eph, bob.d, id, "")
	require.NoError(t, err)
	bobKey, err := bob.eph.Load(id, bob.d)
	require.NoError(t, err)
	bobPub := bobKey.PublicKey().Bytes()

	// The flood, made before the session starts: well-formed envelopes
	// sealed to bob's real key for epochs 2..n.
	mk := keyschedule.NewMeetingKey()
	roster := make([]byte, 32)
	_, _ = rand.Read(roster)
	seal := func(signer meeting.Signer, user, device string, epoch uint64) meeting.Delivery {
		env, err := keyschedule.Seal(keyschedule.Leader{UserID: user, DeviceID: device, Signer: signer},
			keyschedule.Context{ChainID: h.net.ChainID, MeetingID: id, Epoch: epoch, RosterHash: roster}, mk,
			keyschedule.Recipient{UserID: "bob", DeviceID: "phone", PublicKey: bobPub})
		require.NoError(t, err)
		body, err := env.Marshal()
		require.NoError(t, err)
		return meeting.Delivery{FromUser: user, FromDevice: device, MeetingID: id, Kind: meeting.KindMeetingKey, Body: body}
	}
	const (
		forged  = 100_000
		kinds   = 3
		perKind = forged / kinds
	)
	fromMallory := seal(mallory, "mallory", "dev", 2)
	asAlice := seal(mallory, "alice", "laptop", 3) // alice's name, mallory's signature
	floodCh := make(chan meeting.Delivery)
	before := heapInUse()
	h.run(alice, id, nil)
	h.run(bob, id, func(c *meeting.Config) { c.Mailbox = floodBox{Mailbox: c.Mailbox, flood: floodCh} })
	for i := range forged {
		var d meeting.Delivery
		switch i % kinds {
		case 0:
			d = fromMallory
		case 1:
			d = asAlice
		default:
			if i < 3*1000 { // validly signed by the leader, for epochs that never come
				d = seal(alice.d.Key, "alice", "laptop", uint64(100+i))
			} else {
				d = fromMallory
			}
		}
		floodCh <- d
	}
	waitFor(t, "bob to install alice's real key despite the flood", func() bool { return onOneKey(alice, bob) })
	grown := int64(heapInUse()) - int64(before)
	drops := bob.s.EnvelopeDrops()
	t.Logf("heap grew %d KiB over the flood and the call set-up; refused: %s", grown/1024, drops)
	require.GreaterOrEqual(t, drops.NotExpected+drops.BadSignature+drops.SenderFull, uint64(forged-40), "nearly every forged envelope was refused on arrival")
	require.Positive(t, drops.BadSignature, "a wrong signature under the leader's name is refused")
	require.Positive(t, drops.SenderFull, "the leader's own envelopes are bounded too")
	require.Less(t, grown, int64(16<<20), "the flood did not stay in memory")
}
