package call

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"

	"github.com/parleynet/parley/client/keyschedule"
)

// labelSignal starts both the signed message and the HPKE info of a
// signal, so neither is valid for any other use of the device or
// ephemeral keys.
const labelSignal = "parley/v1/signal"

// Sizes of a sealed signal (see the package doc).
const (
	SealedVersion = 1
	EncSize       = keyschedule.EncSize
	SignatureSize = ed25519.SignatureSize
	aeadTagSize   = 16
	MaxSealedSize = 1 + EncSize + MaxSignalSize + SignatureSize + aeadTagSize
	minSealedSize = 1 + EncSize + minSignalSize + SignatureSize + aeadTagSize
)

// The HPKE suite of sealed signals, the same as the key envelopes':
// MLKEM768-X25519, HKDF-SHA256, AES-256-GCM, base mode.
var (
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.AES256GCM()
)

// chainPart is u8(len(chain_id)) || chain_id.
func chainPart(b []byte, chainID string) []byte {
	b = append(b, byte(len(chainID)))
	return append(b, chainID...)
}

func checkChainID(chainID string) error {
	if len(chainID) == 0 || len(chainID) > keyschedule.MaxChainIDLen {
		return fmt.Errorf("%w: chain ID is %d bytes, want 1 to %d", ErrInvalidConfig, len(chainID), keyschedule.MaxChainIDLen)
	}
	return nil
}

// signedMessage is "parley/v1/signal" || u8(len(chain_id)) || chain_id || signal.
func signedMessage(chainID string, signal []byte) []byte {
	b := make([]byte, 0, len(labelSignal)+1+len(chainID)+len(signal))
	b = append(b, labelSignal...)
	b = chainPart(b, chainID)
	return append(b, signal...)
}

// sealInfo is "parley/v1/signal" || u8(len(chain_id)) || chain_id || meeting_id.
func sealInfo(chainID string, meetingID []byte) []byte {
	b := make([]byte, 0, len(labelSignal)+1+len(chainID)+len(meetingID))
	b = append(b, labelSignal...)
	b = chainPart(b, chainID)
	return append(b, meetingID...)
}

// SealSignal encodes s, signs it with the sender's device key (an Ed25519
// crypto.Signer) and seals signal || signature to the recipient's
// ephemeral public key. The result is the body the transport carries.
func SealSignal(s *Signal, chainID string, signer crypto.Signer, to hpke.PublicKey) ([]byte, error) {
	if err := checkChainID(chainID); err != nil {
		return nil, err
	}
	if signer == nil || to == nil {
		return nil, fmt.Errorf("%w: signer and recipient key are required", ErrSignFailed)
	}
	if _, ok := signer.Public().(ed25519.PublicKey); !ok {
		return nil, fmt.Errorf("%w: signer has a %T public key, want ed25519.PublicKey", ErrSignFailed, signer.Public())
	}
	enc, err := s.Marshal()
	if err != nil {
		return nil, err
	}
	// crypto.Hash(0) asks for pure Ed25519 over the whole message.
	sig, err := signer.Sign(nil, signedMessage(chainID, enc), crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("%w: sign: %v", ErrSignFailed, err)
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("%w: signer returned %d bytes, want %d", ErrSignFailed, len(sig), SignatureSize)
	}
	encap, sender, err := hpke.NewSender(to, hpkeKDF, hpkeAEAD, sealInfo(chainID, s.MeetingID))
	if err != nil {
		return nil, fmt.Errorf("%w: hpke: %v", ErrSignFailed, err)
	}
	ct, err := sender.Seal([]byte{SealedVersion}, append(enc, sig...))
	if err != nil {
		return nil, fmt.Errorf("%w: hpke: %v", ErrSignFailed, err)
	}
	body := make([]byte, 0, 1+len(encap)+len(ct))
	body = append(body, SealedVersion)
	body = append(body, encap...)
	return append(body, ct...), nil
}

// opened is a sealed signal after HPKE and decoding, before its signature
// is checked: what the engine may hold until it knows the sender's key.
type opened struct {
	signal *Signal
	msg    []byte // the encoded signal, as signed
	sig    []byte
}

// openSealed opens body with priv and decodes the signal, without
// verifying the signature.
func openSealed(body []byte, chainID string, meetingID []byte, priv hpke.PrivateKey) (*opened, error) {
	switch {
	case len(body) > MaxSealedSize:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrOpenFailed, len(body), MaxSealedSize)
	case len(body) < minSealedSize:
		return nil, fmt.Errorf("%w: %d bytes, at least %d", ErrOpenFailed, len(body), minSealedSize)
	case body[0] != SealedVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrOpenFailed, body[0], SealedVersion)
	}
	r, err := hpke.NewRecipient(body[1:1+EncSize], priv, hpkeKDF, hpkeAEAD, sealInfo(chainID, meetingID))
	if err != nil {
		return nil, fmt.Errorf("%w: decapsulate: %v", ErrOpenFailed, err)
	}
	pt, err := r.Open(body[:1], body[1+EncSize:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOpenFailed, err)
	}
	msg, sig := pt[:len(pt)-SignatureSize], pt[len(pt)-SignatureSize:]
	s, err := UnmarshalSignal(msg)
	if err != nil {
		return nil, err
	}
	return &opened{signal: s, msg: msg, sig: sig}, nil
}

// verify checks the signature under pub, the claimed sender's device key.
func (o *opened) verify(chainID string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signedMessage(chainID, o.msg), o.sig) {
		return fmt.Errorf("%w: %v from %s/%s", ErrBadSignature, o.signal.Kind, o.signal.FromUser, o.signal.FromDevice)
	}
	return nil
}

// OpenSignal opens a sealed signal with this device's ephemeral private
// key and verifies its signature under the device key that deviceKey
// returns for the claimed sender: a lookup in the current roster, never a
// key from the message. It fails with ErrOpenFailed, ErrMalformedSignal,
// ErrUnknownSender (deviceKey reported false) or ErrBadSignature. It does
// not check the recipient, epoch or replay; the engine does.
func OpenSignal(body []byte, chainID string, meetingID []byte, priv hpke.PrivateKey,
	deviceKey func(user, device string) (ed25519.PublicKey, bool),
) (*Signal, error) {
	o, err := openSealed(body, chainID, meetingID, priv)
	if err != nil {
		return nil, err
	}
	pub, ok := deviceKey(o.signal.FromUser, o.signal.FromDevice)
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s", ErrUnknownSender, o.signal.FromUser, o.signal.FromDevice)
	}
	if err := o.verify(chainID, pub); err != nil {
		return nil, err
	}
	return o.signal, nil
}
