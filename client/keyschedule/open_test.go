package keyschedule

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	f := newFixture(t, 3)
	envs, err := SealAll(t.Context(), f.leader, f.ctx, f.mk, f.members)
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range envs {
		wire, err := env.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var got Envelope
		if err := got.Unmarshal(wire); err != nil {
			t.Fatal(err)
		}
		mk, err := Open(&got, f.privs[i], f.expect())
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		if !bytes.Equal(mk, f.mk) {
			t.Fatalf("member %d got another key", i)
		}
	}
}

// TestOpenTamperedByte flips one byte in each field of a sealed envelope on
// the wire and checks which check catches it.
func TestOpenTamperedByte(t *testing.T) {
	f := newFixture(t, 1)
	wire, err := f.seal(t, 0).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Offsets from the layout in doc.go, for chain "parley-test-1" and
	// sender "alice"/"phone".
	chain := 2
	meeting := chain + len(f.ctx.ChainID)
	epoch := meeting + MeetingIDSize
	roster := epoch + 8
	recipient := roster + RosterHashSize
	user := recipient + KeyHashSize + 1
	device := user + len("alice") + 1
	enc := device + len("phone")
	ct := enc + EncSize
	sig := ct + SealedKeySize
	if L, U, D := len(f.ctx.ChainID), len("alice"), len("phone"); enc != 92+L+U+D || sig+SignatureSize != 1324+L+U+D {
		t.Fatalf("layout: enc at %d, end at %d; doc.go says %d, %d", enc, sig+SignatureSize, 92+L+U+D, 1324+L+U+D)
	}
	if sig+SignatureSize != len(wire) {
		t.Fatalf("layout: signature ends at %d, envelope is %d bytes", sig+SignatureSize, len(wire))
	}

	tests := []struct {
		name    string
		at      int
		wantErr error
		wantMsg string
		xor     byte // 0 means 0x01
	}{
		{"version", 0, ErrUnsupportedVersion, "version", 0},
		{"chain id length", 1, ErrMalformedEnvelope, "chain_id length 0", byte(len(f.ctx.ChainID))},
		{"chain id", chain + 3, ErrWrongContext, "chain_id", 0},
		{"meeting id", meeting + 15, ErrWrongContext, "meeting_id", 0},
		{"epoch", epoch + 7, ErrWrongContext, "epoch is 6, expected 7", 0},
		{"roster hash", roster, ErrWrongContext, "roster_hash", 0},
		{"recipient hash", recipient + 31, ErrNotForMe, "recipient_hash", 0},
		{"sender user", user + 2, ErrNotLeader, "the leader is \"alice\"/\"phone\"", 0},
		{"sender device", device, ErrNotLeader, "sent by \"alice\"/", 0},
		{"enc (ML-KEM part)", enc + 10, ErrBadSignature, "", 0},
		{"enc (X25519 part)", ct - 1, ErrBadSignature, "", 0},
		{"ciphertext", ct, ErrBadSignature, "", 0},
		{"tag", sig - 1, ErrBadSignature, "", 0},
		{"signature R", sig, ErrBadSignature, "alice", 0},
		{"signature S", sig + SignatureSize - 1, ErrBadSignature, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append([]byte(nil), wire...)
			x := tt.xor
			if x == 0 {
				x = 0x01
			}
			b[tt.at] ^= x
			var env Envelope
			err := env.Unmarshal(b)
			if err == nil {
				_, err = Open(&env, f.privs[0], f.expect())
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	f := newFixture(t, 3)
	other := func(mutate func(*Context)) Context { c := f.ctx.clone(); mutate(&c); return c }
	// sealFor seals f.mk (or mk) for member 0 in context c, by leader l.
	sealFor := func(t *testing.T, l Leader, c Context, mk []byte) *Envelope {
		env, err := Seal(l, c, mk, f.members[0])
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	mallory, _ := testLeader(9, "alice", "phone")      // claims alice/phone with another key
	aliceLaptop, _ := testLeader(2, "alice", "laptop") // a real device of the leader's user, not the leader device
	bob, _ := testLeader(3, "bob", "phone")
	dhKey, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		env     func(t *testing.T) *Envelope
		priv    hpke.PrivateKey // nil: member 0
		want    func(e *Expectation)
		wantErr error
		wantMsg string
	}{
		{
			name: "other chain",
			env: func(t *testing.T) *Envelope {
				return sealFor(t, f.leader, other(func(c *Context) { c.ChainID = "parley-test-2" }), f.mk)
			},
			wantErr: ErrWrongContext, wantMsg: `chain_id is "parley-test-2", expected "parley-test-1"`,
		},
		{
			name: "other meeting",
			env: func(t *testing.T) *Envelope {
				return sealFor(t, f.leader, other(func(c *Context) { c.MeetingID = make([]byte, 16) }), f.mk)
			},
			wantErr: ErrWrongContext, wantMsg: "meeting_id is 00000000",
		},
		{
			name: "replayed envelope of the previous epoch",
			env: func(t *testing.T) *Envelope {
				return sealFor(t, f.leader, other(func(c *Context) { c.Epoch = 6 }), NewMeetingKey())
			},
			wantErr: ErrWrongContext, wantMsg: "epoch is 6, expected 7 (stale or replayed envelope)",
		},
		{
			name: "envelope of a future epoch",
			env: func(t *testing.T) *Envelope {
				return sealFor(t, f.leader, other(func(c *Context) { c.Epoch = 8 }), f.mk)
			},
			wantErr: ErrWrongContext, wantMsg: "epoch is 8, expected 7",
		},
		{
			name: "other roster",
			env: func(t *testing.T) *Envelope {
				return sealFor(t, f.leader, other(func(c *Context) { c.RosterHash = make([]byte, 32) }), f.mk)
			},
			wantErr: ErrWrongContext, wantMsg: "roster_hash",
		},
		{
			name:    "another member's envelope",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 1) },
			wantErr: ErrNotForMe, wantMsg: "recipient_hash",
		},
		{
			name:    "opened with a fresh ephemeral key",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			priv:    mustGenerate(t),
			wantErr: ErrNotForMe,
		},
		{
			name:    "sent by another user",
			env:     func(t *testing.T) *Envelope { return sealFor(t, bob, f.ctx, f.mk) },
			wantErr: ErrNotLeader, wantMsg: `sent by "bob"/"phone", the leader is "alice"/"phone"`,
		},
		{
			name:    "sent by the leader's other device",
			env:     func(t *testing.T) *Envelope { return sealFor(t, aliceLaptop, f.ctx, f.mk) },
			wantErr: ErrNotLeader, wantMsg: `"alice"/"laptop"`,
		},
		{
			name:    "signed by a key that is not the leader's",
			env:     func(t *testing.T) *Envelope { return sealFor(t, mallory, f.ctx, NewMeetingKey()) },
			wantErr: ErrBadSignature, wantMsg: `not signed by "alice"/"phone"`,
		},
		{
			name:    "expecting a different leader key",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { _, e.LeaderPubKey = testLeader(4, "alice", "phone") },
			wantErr: ErrBadSignature,
		},
		{
			name: "signed header of another envelope",
			env: func(t *testing.T) *Envelope {
				env := f.seal(t, 0)
				env.Signature = f.seal(t, 0).Signature
				return env
			},
			wantErr: ErrBadSignature,
		},
		{
			name: "leader signed a corrupt ciphertext",
			env: func(t *testing.T) *Envelope {
				env := f.seal(t, 0)
				env.Ciphertext[0] ^= 1
				resign(t, env, f.leader)
				return env
			},
			wantErr: ErrDecrypt,
		},
		{
			name: "leader signed a corrupt enc",
			env: func(t *testing.T) *Envelope {
				env := f.seal(t, 0)
				env.Enc[EncSize-1] ^= 1
				resign(t, env, f.leader)
				return env
			},
			wantErr: ErrDecrypt,
		},
		{
			name: "leader re-addressed another member's ciphertext",
			env: func(t *testing.T) *Envelope {
				env := f.seal(t, 1)
				h := EphemeralKeyHash(f.members[0].PublicKey)
				env.RecipientHash = h[:]
				resign(t, env, f.leader)
				return env
			},
			wantErr: ErrDecrypt,
		},
		{
			name:    "leader equivocates",
			env:     func(t *testing.T) *Envelope { return sealFor(t, f.leader, f.ctx, NewMeetingKey()) },
			wantErr: ErrCommitmentMismatch, wantMsg: `epoch 7 key from "alice"/"phone" differs`,
		},
		{
			name:    "chain holds another commitment",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { e.KeyCommitment = bytes.Repeat([]byte{1}, 32) },
			wantErr: ErrCommitmentMismatch,
		},
		{
			name:    "nil envelope",
			env:     func(*testing.T) *Envelope { return nil },
			wantErr: ErrInvalidArgument,
		},
		{
			name:    "malformed envelope",
			env:     func(t *testing.T) *Envelope { env := f.seal(t, 0); env.Enc = env.Enc[:10]; return env },
			wantErr: ErrMalformedEnvelope, wantMsg: "enc is 10 bytes",
		},
		{
			name:    "expectation without a commitment",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { e.KeyCommitment = nil },
			wantErr: ErrInvalidArgument, wantMsg: "key_commitment",
		},
		{
			name:    "expectation without a leader key",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { e.LeaderPubKey = nil },
			wantErr: ErrInvalidArgument, wantMsg: "leader public key",
		},
		{
			name:    "expectation without a leader device",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { e.LeaderDevice = "" },
			wantErr: ErrInvalidArgument,
		},
		{
			name:    "expectation with a bad context",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			want:    func(e *Expectation) { e.Context = e.Context.clone(); e.Context.RosterHash = nil },
			wantErr: ErrInvalidContext,
		},
		{
			name:    "private key of another KEM",
			env:     func(t *testing.T) *Envelope { return f.seal(t, 0) },
			priv:    dhKey,
			wantErr: ErrInvalidKey, wantMsg: "0x0020",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := f.expect()
			if tt.want != nil {
				tt.want(&want)
			}
			priv := f.privs[0]
			if tt.priv != nil {
				priv = tt.priv
			}
			mk, err := Open(tt.env(t), priv, want)
			if mk != nil {
				t.Fatal("Open returned a key with an error")
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Open() = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

// TestLeaderEquivocation: a leader gives members 0 and 1 the committed key
// and member 2 another one. Each envelope is well formed and signed; only
// the commitment on chain tells member 2.
func TestLeaderEquivocation(t *testing.T) {
	f := newFixture(t, 3)
	envs, err := SealAll(t.Context(), f.leader, f.ctx, f.mk, f.members[:2])
	if err != nil {
		t.Fatal(err)
	}
	odd, err := Seal(f.leader, f.ctx, NewMeetingKey(), f.members[2])
	if err != nil {
		t.Fatal(err)
	}
	envs = append(envs, odd)
	for i, wantErr := range []error{nil, nil, ErrCommitmentMismatch} {
		_, err := Open(envs[i], f.privs[i], f.expect())
		if !errors.Is(err, wantErr) {
			t.Fatalf("member %d: Open() = %v, want %v", i, err, wantErr)
		}
	}
}

func mustGenerate(t *testing.T) hpke.PrivateKey {
	k, err := GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
