package keyschedule

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSealAllOrderAndFreshness(t *testing.T) {
	f := newFixture(t, 40)
	envs, err := SealAll(t.Context(), f.leader, f.ctx, f.mk, f.members)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != len(f.members) {
		t.Fatalf("%d envelopes for %d members", len(envs), len(f.members))
	}
	seen := map[string]bool{}
	for i, env := range envs {
		if h := EphemeralKeyHash(f.members[i].PublicKey); !bytes.Equal(env.RecipientHash, h[:]) {
			t.Fatalf("envelope %d is not for member %d", i, i)
		}
		if seen[string(env.Enc)] {
			t.Fatalf("envelope %d reuses an encapsulation", i)
		}
		seen[string(env.Enc)] = true
	}
	// Envelopes share no memory with the caller's context.
	f.ctx.MeetingID[0] ^= 1
	if envs[0].MeetingID[0] == f.ctx.MeetingID[0] {
		t.Fatal("envelope aliases the caller's meeting ID")
	}
}

func TestSealAllEmpty(t *testing.T) {
	f := newFixture(t, 0)
	envs, err := SealAll(t.Context(), f.leader, f.ctx, f.mk, nil)
	if err != nil || len(envs) != 0 {
		t.Fatalf("SealAll(no members) = %d envelopes, %v", len(envs), err)
	}
}

func TestSealErrors(t *testing.T) {
	f := newFixture(t, 3)
	badKey := append([]Recipient(nil), f.members...)
	badKey[1].PublicKey = badKey[1].PublicKey[:100]
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tooMany := make([]Recipient, MaxRecipients+1)

	tests := []struct {
		name    string
		leader  func(*Leader)
		ctx     func(*Context)
		mk      []byte
		members []Recipient
		wantErr error
		wantMsg string
	}{
		{name: "bad member key", members: badKey, wantErr: ErrInvalidKey, wantMsg: "member 1 (user1/laptop): "},
		{name: "too many members", members: tooMany, wantErr: ErrTooManyRecipients, wantMsg: "1001 members"},
		{name: "short meeting key", mk: make([]byte, 16), wantErr: ErrInvalidArgument, wantMsg: "meeting key is 16 bytes"},
		{name: "bad context", ctx: func(c *Context) { c.ChainID = "" }, wantErr: ErrInvalidContext},
		{name: "no signer", leader: func(l *Leader) { l.Signer = nil }, wantErr: ErrInvalidArgument, wantMsg: "no signer"},
		{name: "non-Ed25519 signer", leader: func(l *Leader) { l.Signer = x25519Signer{x25519} }, wantErr: ErrInvalidArgument, wantMsg: "ecdh.PublicKey"},
		{name: "signer fails", leader: func(l *Leader) { l.Signer = failingSigner{l.Signer} }, wantErr: ErrSealFailed, wantMsg: "/laptop): keyschedule: cannot seal meeting key: leader signer: keystore locked"},
		{name: "empty leader user", leader: func(l *Leader) { l.UserID = "" }, wantErr: ErrInvalidArgument, wantMsg: "leader user_id"},
		{name: "long leader device", leader: func(l *Leader) { l.DeviceID = strings.Repeat("d", 65) }, wantErr: ErrInvalidArgument, wantMsg: "leader device_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c, mk, members := f.leader, f.ctx.clone(), f.mk, f.members
			if tt.leader != nil {
				tt.leader(&l)
			}
			if tt.ctx != nil {
				tt.ctx(&c)
			}
			if tt.mk != nil {
				mk = tt.mk
			}
			if tt.members != nil {
				members = tt.members
			}
			envs, err := SealAll(t.Context(), l, c, mk, members)
			if envs != nil || !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("SealAll() = %d envelopes, %v; want %v mentioning %q", len(envs), err, tt.wantErr, tt.wantMsg)
			}
			if len(members) <= MaxRecipients {
				_, err = Seal(l, c, mk, members[1])
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Seal() = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

func TestSealAllCancelled(t *testing.T) {
	f := newFixture(t, 5)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	envs, err := SealAll(ctx, f.leader, f.ctx, f.mk, f.members)
	if envs != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("SealAll(cancelled) = %d envelopes, %v; want context.Canceled", len(envs), err)
	}
}

func TestForEachParallelStopsEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	tests := []struct {
		name    string
		procs   int // GOMAXPROCS for the case; 0 leaves it alone
		fn      func(cancel context.CancelFunc, i int) error
		wantErr error
	}{
		{name: "cancel midway", fn: cancelAt10, wantErr: context.Canceled},
		{name: "error midway", fn: failAt10, wantErr: ErrInvalidKey},
		{name: "cancel midway, one worker", procs: 1, fn: cancelAt10, wantErr: context.Canceled},
		{name: "error midway, one worker", procs: 1, fn: failAt10, wantErr: ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tt.procs))
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var calls atomic.Int64
			err := forEachParallel(ctx, 1000, func(i int) error {
				calls.Add(1)
				return tt.fn(cancel, i)
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			n := calls.Load()
			if n >= 1000 {
				t.Fatalf("all %d items ran after stopping at item 10", n)
			}
			// With one worker the order is fixed: items 0 to 10, then stop.
			if tt.procs == 1 && n != 11 {
				t.Fatalf("%d calls with one worker, want 11", n)
			}
		})
	}
	// All workers have returned: no goroutines are left behind.
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left, %d before", n, before)
	}
}

func cancelAt10(cancel context.CancelFunc, i int) error {
	if i == 10 {
		cancel()
	}
	return nil
}

func failAt10(_ context.CancelFunc, i int) error {
	if i == 10 {
		return ErrInvalidKey
	}
	return nil
}

// failingSigner has an Ed25519 public key but cannot sign.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("keystore locked")
}

// x25519Signer is a crypto.Signer with a public key of the wrong kind.
type x25519Signer struct{ k *ecdh.PrivateKey }

func (s x25519Signer) Public() crypto.PublicKey { return s.k.PublicKey() }
func (s x25519Signer) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("not a signing key")
}
