package mailboxv1_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"errors"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/keyschedule"
)

func TestChallengeRoundTrip(t *testing.T) {
	// The recipient key is the key schedule's ephemeral key, and Envelope.to
	// is its EphemeralKeyHash.
	priv, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		t.Fatal(err)
	}
	pk := priv.PublicKey().Bytes()
	if len(pk) != mailboxv1.RecipientPublicKeySize {
		t.Fatalf("public key is %d bytes, RecipientPublicKeySize %d", len(pk), mailboxv1.RecipientPublicKeySize)
	}
	if mailboxv1.RecipientHash(pk) != keyschedule.EphemeralKeyHash(pk) {
		t.Fatal("RecipientHash differs from keyschedule.EphemeralKeyHash")
	}
	id := bytes.Repeat([]byte{7}, mailboxv1.ChallengeIDSize)
	answer, resp, err := mailboxv1.SealChallenge(pk, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Enc) != 1120 || len(resp.Ciphertext) != 48 {
		t.Errorf("enc %d bytes, ciphertext %d; doc.go says 1120 and 48", len(resp.Enc), len(resp.Ciphertext))
	}
	got, err := mailboxv1.OpenChallenge(priv, resp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, answer) || len(got) != mailboxv1.ChallengeAnswerSize {
		t.Fatal("opened answer differs")
	}
	// The challenge ID is bound by the HPKE info: with the raw HPKE API and
	// the documented info the answer opens too.
	r, err := hpke.NewRecipient(resp.Enc, priv, hpke.HKDFSHA256(), hpke.AES256GCM(),
		append([]byte("parley/v1/mailbox/challenge"), id...))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := r.Open(nil, resp.Ciphertext); err != nil || !bytes.Equal(pt, answer) {
		t.Fatalf("opening with the documented info: %v", err)
	}
}

func TestOpenChallengeErrors(t *testing.T) {
	priv, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id := bytes.Repeat([]byte{1}, mailboxv1.ChallengeIDSize)
	_, resp, err := mailboxv1.SealChallenge(priv.PublicKey().Bytes(), id)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		priv hpke.PrivateKey
		mod  func(r *mailboxv1.ChallengeResponse)
	}{
		{"nil key", nil, func(*mailboxv1.ChallengeResponse) {}},
		{"other KEM", x25519, func(*mailboxv1.ChallengeResponse) {}},
		{"other key", other, func(*mailboxv1.ChallengeResponse) {}},
		{"challenge_id changed", priv, func(r *mailboxv1.ChallengeResponse) { r.ChallengeId[0] ^= 1 }},
		{"challenge_id short", priv, func(r *mailboxv1.ChallengeResponse) { r.ChallengeId = r.ChallengeId[:8] }},
		{"enc truncated", priv, func(r *mailboxv1.ChallengeResponse) { r.Enc = r.Enc[:100] }},
		{"ciphertext flipped", priv, func(r *mailboxv1.ChallengeResponse) { r.Ciphertext[0] ^= 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &mailboxv1.ChallengeResponse{
				ChallengeId: bytes.Clone(resp.ChallengeId),
				Enc:         bytes.Clone(resp.Enc),
				Ciphertext:  bytes.Clone(resp.Ciphertext),
			}
			tc.mod(r)
			if _, err := mailboxv1.OpenChallenge(tc.priv, r); !errors.Is(err, mailboxv1.ErrInvalidChallenge) {
				t.Fatalf("OpenChallenge = %v, want ErrInvalidChallenge", err)
			}
		})
	}
	if _, err := mailboxv1.OpenChallenge(priv, nil); !errors.Is(err, mailboxv1.ErrInvalidChallenge) {
		t.Errorf("nil response: %v", err)
	}
}

func TestSealChallengeErrors(t *testing.T) {
	id := make([]byte, mailboxv1.ChallengeIDSize)
	x25519, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, pk := range map[string][]byte{
		"empty":      nil,
		"short":      make([]byte, 100),
		"x25519 key": x25519.PublicKey().Bytes(),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := mailboxv1.SealChallenge(pk, id); !errors.Is(err, mailboxv1.ErrInvalidRecipientKey) {
				t.Fatalf("SealChallenge = %v, want ErrInvalidRecipientKey", err)
			}
		})
	}
	priv, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mailboxv1.SealChallenge(priv.PublicKey().Bytes(), id[:3]); !errors.Is(err, mailboxv1.ErrInvalidChallenge) {
		t.Errorf("short challenge ID: %v", err)
	}
}
