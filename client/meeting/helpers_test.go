package meeting_test

import (
	"crypto"
	"io"
)

type testSigner struct{ p *party }

func (s testSigner) Public() crypto.PublicKey { return s.p.dev.Key.PublicKey() }
func (s testSigner) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.p.dev.Key.Sign(msg), nil
}

func signerOf(p *party) crypto.Signer { return testSigner{p} }
