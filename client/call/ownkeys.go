package call

import (
	"crypto/hpke"
	"fmt"
)

// SetOwnKeys replaces the ephemeral private keys that open signals sealed
// to this device: after the device rotates its key (or claims leadership
// with a new one), peers seal to the new key as soon as they read it,
// while signals sealed to the previous one may still be on the way; so
// both are given until the previous is no longer needed. Until the first
// call, Config.EphemeralKey is used.
func (e *Engine) SetOwnKeys(keys ...hpke.PrivateKey) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: no ephemeral key", ErrInvalidConfig)
	}
	want := hpke.MLKEM768X25519().ID()
	for i, k := range keys {
		if k == nil || k.KEM().ID() != want {
			return fmt.Errorf("%w: ephemeral key %d is not an MLKEM768-X25519 key", ErrInvalidConfig, i)
		}
	}
	ks := append([]hpke.PrivateKey(nil), keys...)
	e.ownKeys.Store(&ks)
	return nil
}

// openInbound opens a sealed signal with the first of this device's keys
// that does.
func (e *Engine) openInbound(body []byte) (*opened, error) {
	keys := []hpke.PrivateKey{e.cfg.EphemeralKey}
	if ks := e.ownKeys.Load(); ks != nil {
		keys = *ks
	}
	var err error
	for _, k := range keys {
		var o *opened
		if o, err = openSealed(body, e.cfg.ChainID, e.cfg.MeetingID, k); err == nil {
			return o, nil
		}
	}
	return nil, err
}
