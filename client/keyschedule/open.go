package keyschedule

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/hpke"
	"encoding/hex"
	"fmt"
)

// Expectation is what a member knows from the chain before it accepts an
// epoch's key: the epoch's context, the key commitment the leader posted,
// and the leader's identity and device key.
type Expectation struct {
	Context       Context // from NewContext
	KeyCommitment []byte  // CommitmentSize bytes, from the Epoch on chain
	LeaderPubKey  ed25519.PublicKey
	LeaderUser    string
	LeaderDevice  string
}

// Open checks env against want and returns the meeting key it carries. The
// checks run in this order, each failing with its own error:
//
//  1. env is well formed (ErrUnsupportedVersion, ErrMalformedEnvelope) and
//     want is complete (ErrInvalidContext, ErrInvalidArgument, ErrInvalidKey);
//  2. chain ID, meeting ID, epoch and roster hash equal want.Context's
//     (ErrWrongContext, naming the field);
//  3. the recipient hash is EphemeralKeyHash of priv's public key (ErrNotForMe);
//  4. the sender is want's leader user and device (ErrNotLeader);
//  5. the signature verifies under want.LeaderPubKey (ErrBadSignature);
//  6. HPKE opens the ciphertext (ErrDecrypt);
//  7. the key matches want.KeyCommitment (ErrCommitmentMismatch).
//
// The caller owns the returned key and should clear it after installing it
// in its EpochKeys.
func Open(env *Envelope, priv hpke.PrivateKey, want Expectation) ([]byte, error) {
	if env == nil {
		return nil, fmt.Errorf("%w: envelope is nil", ErrInvalidArgument)
	}
	if err := env.validate(); err != nil {
		return nil, err
	}
	c, err := want.validate()
	if err != nil {
		return nil, err
	}
	if err := checkKEM(priv); err != nil {
		return nil, err
	}

	if env.ChainID != c.ChainID {
		return nil, fmt.Errorf("%w: chain_id is %q, expected %q", ErrWrongContext, env.ChainID, c.ChainID)
	}
	if !bytes.Equal(env.MeetingID, c.MeetingID) {
		return nil, fmt.Errorf("%w: meeting_id is %x, expected %x", ErrWrongContext, env.MeetingID, c.MeetingID)
	}
	if env.Epoch != c.Epoch {
		return nil, fmt.Errorf("%w: epoch is %d, expected %d (stale or replayed envelope)", ErrWrongContext, env.Epoch, c.Epoch)
	}
	if !bytes.Equal(env.RosterHash, c.RosterHash) {
		return nil, fmt.Errorf("%w: roster_hash is %x, expected %x", ErrWrongContext, env.RosterHash, c.RosterHash)
	}

	mine := EphemeralKeyHash(priv.PublicKey().Bytes())
	if !bytes.Equal(env.RecipientHash, mine[:]) {
		return nil, fmt.Errorf("%w: recipient_hash is %x, this device's key hash is %x", ErrNotForMe, env.RecipientHash, mine)
	}

	if env.SenderUser != want.LeaderUser || env.SenderDevice != want.LeaderDevice {
		return nil, fmt.Errorf("%w: sent by %q/%q, the leader is %q/%q", ErrNotLeader, env.SenderUser, env.SenderDevice, want.LeaderUser, want.LeaderDevice)
	}

	if !ed25519.Verify(want.LeaderPubKey, env.signedMessage(), env.Signature) {
		return nil, fmt.Errorf("%w: not signed by %q/%q's device key %s", ErrBadSignature, want.LeaderUser, want.LeaderDevice, hex.EncodeToString(want.LeaderPubKey))
	}

	r, err := hpke.NewRecipient(env.Enc, priv, kdf, aead, c.labeled(labelMeetingKey))
	if err != nil {
		return nil, fmt.Errorf("%w: decapsulate from %q/%q: %v", ErrDecrypt, env.SenderUser, env.SenderDevice, err)
	}
	mk, err := r.Open(env.appendHeader(nil), env.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: from %q/%q: %v", ErrDecrypt, env.SenderUser, env.SenderDevice, err)
	}

	if !hmac.Equal(commit(mk, c), want.KeyCommitment) {
		clear(mk)
		return nil, fmt.Errorf("%w: epoch %d key from %q/%q differs from the committed key %x", ErrCommitmentMismatch, c.Epoch, want.LeaderUser, want.LeaderDevice, want.KeyCommitment)
	}
	return mk, nil
}

// validate checks that w is complete and returns its context from checked.
func (w Expectation) validate() (Context, error) {
	c, err := w.Context.checked()
	if err != nil {
		return c, err
	}
	switch {
	case len(w.KeyCommitment) != CommitmentSize:
		return c, fmt.Errorf("%w: expected key_commitment is %d bytes, want %d", ErrInvalidArgument, len(w.KeyCommitment), CommitmentSize)
	case len(w.LeaderPubKey) != ed25519.PublicKeySize:
		return c, fmt.Errorf("%w: leader public key is %d bytes, want %d", ErrInvalidArgument, len(w.LeaderPubKey), ed25519.PublicKeySize)
	case w.LeaderUser == "" || w.LeaderDevice == "":
		return c, fmt.Errorf("%w: expected leader user and device must be set", ErrInvalidArgument)
	}
	return c, nil
}
