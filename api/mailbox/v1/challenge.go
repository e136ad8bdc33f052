package mailboxv1

import (
	"crypto/hpke"
	"crypto/rand"
	"fmt"
)

// The HPKE suite of subscription challenges, the one of the key schedule
// (DESIGN.md 5): KEM MLKEM768-X25519 (0x647a), KDF HKDF-SHA256 (0x0001),
// AEAD AES-256-GCM (0x0002), base mode.
var (
	challengeKEM  = hpke.MLKEM768X25519()
	challengeKDF  = hpke.HKDFSHA256()
	challengeAEAD = hpke.AES256GCM()
)

// ChallengeInfo returns the HPKE info of a challenge: ChallengeDomain
// followed directly by the challenge ID.
func ChallengeInfo(challengeID []byte) []byte {
	info := make([]byte, 0, len(ChallengeDomain)+len(challengeID))
	info = append(info, ChallengeDomain...)
	return append(info, challengeID...)
}

// ParseRecipientKey parses recipient_pk as an MLKEM768-X25519 public key.
func ParseRecipientKey(recipientPK []byte) (hpke.PublicKey, error) {
	if len(recipientPK) != RecipientPublicKeySize {
		return nil, fmt.Errorf("%w: recipient_pk: want %d bytes, got %d", ErrInvalidRecipientKey, RecipientPublicKeySize, len(recipientPK))
	}
	pk, err := challengeKEM.NewPublicKey(recipientPK)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient_pk: %v", ErrInvalidRecipientKey, err)
	}
	return pk, nil
}

// SealChallenge draws a random answer and seals it to recipientPK for the
// given challenge ID. A node keeps the answer and sends the response; only
// the holder of the private key can open it.
func SealChallenge(recipientPK, challengeID []byte) (answer []byte, resp *ChallengeResponse, err error) {
	if len(challengeID) != ChallengeIDSize {
		return nil, nil, fmt.Errorf("%w: challenge_id: want %d bytes, got %d", ErrInvalidChallenge, ChallengeIDSize, len(challengeID))
	}
	pk, err := ParseRecipientKey(recipientPK)
	if err != nil {
		return nil, nil, err
	}
	answer = make([]byte, ChallengeAnswerSize)
	if _, err := rand.Read(answer); err != nil {
		return nil, nil, fmt.Errorf("mailbox: challenge answer: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, challengeKDF, challengeAEAD, ChallengeInfo(challengeID))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: hpke: %v", ErrInvalidRecipientKey, err)
	}
	ct, err := sender.Seal(nil, answer)
	if err != nil {
		return nil, nil, fmt.Errorf("mailbox: seal challenge: %w", err)
	}
	id := append([]byte(nil), challengeID...)
	return answer, &ChallengeResponse{ChallengeId: id, Enc: enc, Ciphertext: ct}, nil
}

// OpenChallenge opens a challenge response with the recipient's private key
// and returns the answer to put in SubscribeRequest.answer.
func OpenChallenge(priv hpke.PrivateKey, resp *ChallengeResponse) ([]byte, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: private key is nil", ErrInvalidChallenge)
	}
	if id := priv.KEM().ID(); id != challengeKEM.ID() {
		return nil, fmt.Errorf("%w: private key is for KEM 0x%04x, want MLKEM768-X25519 (0x%04x)", ErrInvalidChallenge, id, challengeKEM.ID())
	}
	if resp == nil {
		return nil, fmt.Errorf("%w: response is missing", ErrInvalidChallenge)
	}
	if len(resp.ChallengeId) != ChallengeIDSize {
		return nil, fmt.Errorf("%w: challenge_id: want %d bytes, got %d", ErrInvalidChallenge, ChallengeIDSize, len(resp.ChallengeId))
	}
	r, err := hpke.NewRecipient(resp.Enc, priv, challengeKDF, challengeAEAD, ChallengeInfo(resp.ChallengeId))
	if err != nil {
		return nil, fmt.Errorf("%w: enc: %v", ErrInvalidChallenge, err)
	}
	answer, err := r.Open(nil, resp.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext does not open with this key", ErrInvalidChallenge)
	}
	if len(answer) != ChallengeAnswerSize {
		return nil, fmt.Errorf("%w: answer: want %d bytes, got %d", ErrInvalidChallenge, ChallengeAnswerSize, len(answer))
	}
	return answer, nil
}
