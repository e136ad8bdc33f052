package meeting

import (
	"crypto"
	"io"
)

// cryptoSigner adapts a device Signer to crypto.Signer for keyschedule.
// Ed25519 signs the message itself (crypto.Hash(0)), which is all the key
// schedule asks of it.
type cryptoSigner struct{ s Signer }

func (c cryptoSigner) Public() crypto.PublicKey { return c.s.PublicKey() }

func (c cryptoSigner) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return c.s.Sign(msg), nil
}

var _ crypto.Signer = cryptoSigner{}
