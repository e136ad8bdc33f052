package keyschedule

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// MaxRecipients bounds one SealAll call.
const MaxRecipients = 1000

const labelMeetingKey = "parley/v1/mk"

// Leader is the device that seals an epoch's key: its on-chain identity and
// its Ed25519 device key. Signer must return an ed25519.PublicKey from
// Public and be safe for concurrent use (ed25519.PrivateKey is).
type Leader struct {
	UserID   string
	DeviceID string
	Signer   crypto.Signer
}

// Recipient is one member of the epoch's roster. UserID and DeviceID only
// name the member in errors; PublicKey is the ephemeral public key from the
// member's join request on chain.
type Recipient struct {
	UserID    string
	DeviceID  string
	PublicKey []byte
	// Parsed, when set, is PublicKey already parsed: a leader parses each
	// member's key once when it joins and reuses it for every epoch, which
	// saves about a fifth of the sealing time. It must match PublicKey.
	Parsed hpke.PublicKey
}

// Seal seals mk for one member. See SealAll for many.
func Seal(leader Leader, c Context, mk []byte, to Recipient) (*Envelope, error) {
	c, err := checkSealArgs(leader, c, mk)
	if err != nil {
		return nil, err
	}
	env, err := seal(leader, c, c.labeled(labelMeetingKey), mk, to)
	if err != nil {
		return nil, fmt.Errorf("member %s/%s: %w", to.UserID, to.DeviceID, err)
	}
	return env, nil
}

// SealAll seals mk for every member and returns the envelopes in member
// order. The work runs on runtime.GOMAXPROCS(0) goroutines, all of which
// have returned when SealAll does. It stops early and returns an error
// wrapping ctx.Err() when ctx is cancelled, or, when sealing for a member
// fails, the first such error observed (naming the member). mk must not
// change during the call.
func SealAll(ctx context.Context, leader Leader, c Context, mk []byte, members []Recipient) ([]*Envelope, error) {
	if len(members) > MaxRecipients {
		return nil, fmt.Errorf("%w: %d members, at most %d", ErrTooManyRecipients, len(members), MaxRecipients)
	}
	c, err := checkSealArgs(leader, c, mk)
	if err != nil {
		return nil, err
	}
	info := c.labeled(labelMeetingKey)
	out := make([]*Envelope, len(members))
	err = forEachParallel(ctx, len(members), func(i int) error {
		env, err := seal(leader, c, info, mk, members[i])
		if err != nil {
			return fmt.Errorf("member %d (%s/%s): %w", i, members[i].UserID, members[i].DeviceID, err)
		}
		out[i] = env
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkSealArgs checks what Seal and SealAll are given and returns c from
// checked.
func checkSealArgs(leader Leader, c Context, mk []byte) (Context, error) {
	if len(mk) != MeetingKeySize {
		return c, fmt.Errorf("%w: meeting key is %d bytes, want %d", ErrInvalidArgument, len(mk), MeetingKeySize)
	}
	c, err := c.checked()
	if err != nil {
		return c, err
	}
	if leader.Signer == nil {
		return c, fmt.Errorf("%w: leader has no signer", ErrInvalidArgument)
	}
	if _, ok := leader.Signer.Public().(ed25519.PublicKey); !ok {
		return c, fmt.Errorf("%w: leader signer has a %T public key, want ed25519.PublicKey", ErrInvalidArgument, leader.Signer.Public())
	}
	for _, f := range []struct{ name, id string }{{"leader user_id", leader.UserID}, {"leader device_id", leader.DeviceID}} {
		if len(f.id) == 0 || len(f.id) > MaxIDLen {
			return c, fmt.Errorf("%w: %s is %d bytes, want 1 to %d", ErrInvalidArgument, f.name, len(f.id), MaxIDLen)
		}
	}
	return c, nil
}

// seal builds, encrypts and signs one envelope; c is from checked and info
// is "parley/v1/mk" || ctx.
func seal(leader Leader, c Context, info, mk []byte, to Recipient) (*Envelope, error) {
	pk := to.Parsed
	if pk == nil {
		var err error
		if pk, err = ParseEphemeralPublicKey(to.PublicKey); err != nil {
			return nil, err
		}
	}
	h := EphemeralKeyHash(to.PublicKey)
	c = c.clone()
	env := &Envelope{
		Version:       EnvelopeVersion,
		ChainID:       c.ChainID,
		MeetingID:     c.MeetingID,
		Epoch:         c.Epoch,
		RosterHash:    c.RosterHash,
		RecipientHash: h[:],
		SenderUser:    leader.UserID,
		SenderDevice:  leader.DeviceID,
	}
	enc, sender, err := hpke.NewSender(pk, kdf, aead, info)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke: %v", ErrSealFailed, err)
	}
	ct, err := sender.Seal(env.appendHeader(nil), mk)
	if err != nil {
		return nil, fmt.Errorf("%w: hpke: %v", ErrSealFailed, err)
	}
	env.Enc, env.Ciphertext = enc, ct
	// crypto.Hash(0) asks an Ed25519 signer for pure Ed25519 over the
	// whole message.
	sig, err := leader.Signer.Sign(nil, env.signedMessage(), crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("%w: leader signer: %v", ErrSealFailed, err)
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("%w: leader signer returned %d bytes, want %d", ErrSealFailed, len(sig), SignatureSize)
	}
	env.Signature = sig
	return env, nil
}

// forEachParallel calls fn(i) for i in [0, n) on runtime.GOMAXPROCS(0)
// goroutines. The first error cancels the remaining work and is returned;
// cancellation of ctx before every call has finished returns its error. All
// goroutines have returned when it does.
func forEachParallel(ctx context.Context, n int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		once       sync.Once
		firstErr   error
	)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if d := done.Load(); d < int64(n) {
		return fmt.Errorf("keyschedule: stopped after %d of %d members: %w", d, n, context.Cause(ctx))
	}
	return nil
}
