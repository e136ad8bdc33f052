package meeting_test

import (
	"crypto"
	"io"

	"github.com/parleynet/parley/client/meeting"
)

type testSigner struct{ p *party }

func (s testSigner) Public() crypto.PublicKey { return s.p.dev.Key.PublicKey() }
func (s testSigner) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.p.dev.Key.Sign(msg), nil
}

func signerOf(p *party) crypto.Signer { return testSigner{p} }

// signerFor adapts a device key to crypto.Signer.
func signerFor(k meeting.Signer) crypto.Signer { return keySigner{k} }

type keySigner struct{ k meeting.Signer }

func (s keySigner) Public() crypto.PublicKey { return s.k.PublicKey() }
func (s keySigner) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(msg), nil
}
