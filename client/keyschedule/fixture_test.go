package keyschedule

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"fmt"
	"testing"
)

// fixture is one epoch of a meeting: a leader, n members with ephemeral
// keys, a meeting key and its commitment.
type fixture struct {
	ctx        Context
	leader     Leader
	leaderPub  ed25519.PublicKey
	mk         []byte
	commitment []byte
	privs      []hpke.PrivateKey
	members    []Recipient
}

// testContext is a context from NewContext, as clients build them; tests
// that need a literal (to break it) clone it.
func testContext(epoch uint64) Context {
	roster := sha256.Sum256([]byte("roster"))
	c, err := NewContext("parley-test-1", bytes.Repeat([]byte{0xa5}, MeetingIDSize), epoch, roster[:])
	if err != nil {
		panic(err)
	}
	return c
}

func testLeader(seedByte byte, user, device string) (Leader, ed25519.PublicKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seedByte}, ed25519.SeedSize))
	return Leader{UserID: user, DeviceID: device, Signer: priv}, priv.Public().(ed25519.PublicKey)
}

// testMembers makes n members with ephemeral keys derived from their index,
// so benchmarks and tests do not pay for fresh randomness.
func testMembers(tb testing.TB, n int) ([]hpke.PrivateKey, []Recipient) {
	tb.Helper()
	privs := make([]hpke.PrivateKey, n)
	members := make([]Recipient, n)
	for i := range n {
		k, err := kem.DeriveKeyPair(fmt.Appendf(nil, "member-%04d-ikm-padding-to-32-bytes", i))
		if err != nil {
			tb.Fatal(err)
		}
		privs[i] = k
		members[i] = Recipient{UserID: fmt.Sprintf("user%d", i), DeviceID: "laptop", PublicKey: k.PublicKey().Bytes()}
	}
	return privs, members
}

func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	f := &fixture{ctx: testContext(7), mk: NewMeetingKey()}
	f.leader, f.leaderPub = testLeader(1, "alice", "phone")
	f.privs, f.members = testMembers(tb, n)
	c, err := Commit(f.mk, f.ctx)
	if err != nil {
		tb.Fatal(err)
	}
	f.commitment = c
	return f
}

func (f *fixture) expect() Expectation {
	return Expectation{
		Context:       f.ctx,
		KeyCommitment: f.commitment,
		LeaderPubKey:  f.leaderPub,
		LeaderUser:    f.leader.UserID,
		LeaderDevice:  f.leader.DeviceID,
	}
}

func (f *fixture) seal(tb testing.TB, i int) *Envelope {
	tb.Helper()
	env, err := Seal(f.leader, f.ctx, f.mk, f.members[i])
	if err != nil {
		tb.Fatal(err)
	}
	return env
}

// resign signs env again with the key of leader, as a leader (or a device
// that holds its key) would for an envelope it built itself.
func resign(tb testing.TB, env *Envelope, leader Leader) {
	tb.Helper()
	env.Signature = ed25519.Sign(leader.Signer.(ed25519.PrivateKey), env.signedMessage())
}
