package mailbox

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// DeviceKeys looks up a sender device's public key on chain. It returns an
// error wrapping ErrUnknownSender when the device does not exist or is
// revoked, and any other error when the state cannot be read. node/start.go
// implements it on the app's x/identity keeper.
type DeviceKeys interface {
	ActiveDeviceKey(ctx context.Context, user, device string) ([]byte, error)
}

// Verifier checks that an envelope is well formed and signed by its
// sender device's active key, on one chain.
type Verifier struct {
	chainID string
	keys    DeviceKeys
}

// NewVerifier returns a verifier for chainID.
func NewVerifier(chainID string, keys DeviceKeys) (*Verifier, error) {
	if chainID == "" {
		return nil, errors.New("mailbox: verifier needs a chain ID")
	}
	if keys == nil {
		return nil, errors.New("mailbox: verifier needs DeviceKeys")
	}
	return &Verifier{chainID: chainID, keys: keys}, nil
}

// ChainID returns the chain the verifier checks signatures for.
func (v *Verifier) ChainID() string { return v.chainID }

// Verify runs mailboxv1.Validate, then checks e.sig against the key the
// chain holds for (from_user, from_device), which must not be revoked.
func (v *Verifier) Verify(ctx context.Context, e *mailboxv1.Envelope) error {
	if err := mailboxv1.Validate(e); err != nil {
		return err
	}
	return v.VerifyDevice(ctx, e.FromUser, e.FromDevice, mailboxv1.SignBytes(v.chainID, e), e.Sig)
}

// VerifyDevice checks sig over signBytes against the key the chain holds
// for user/device, which must not be revoked: the one check behind
// envelopes and TURN credential requests alike.
func (v *Verifier) VerifyDevice(ctx context.Context, user, device string, signBytes, sig []byte) error {
	key, err := v.keys.ActiveDeviceKey(ctx, user, device)
	switch {
	case errors.Is(err, ErrUnknownSender):
		return err
	case err != nil:
		return fmt.Errorf("%w: device %s/%s: %v", ErrKeysUnavailable, user, device, err)
	case len(key) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: device %s/%s has a %d-byte key", ErrKeysUnavailable, user, device, len(key))
	}
	if !ed25519.Verify(key, signBytes, sig) {
		return fmt.Errorf("%w: sig does not verify with the key of device %s/%s on chain %s",
			ErrBadSignature, user, device, v.chainID)
	}
	return nil
}
