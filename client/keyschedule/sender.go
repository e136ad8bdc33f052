package keyschedule

import "crypto/ed25519"

// SignedBy says whether env names user/device as its sender and carries
// that device's signature under pub: what a member checks before it keeps
// an envelope it cannot open yet (its epoch not proven), so that nobody
// but the devices it expects keys from can fill its memory.
func (e *Envelope) SignedBy(user, device string, pub ed25519.PublicKey) bool {
	return e.SenderUser == user && e.SenderDevice == device && len(pub) == ed25519.PublicKeySize &&
		ed25519.Verify(pub, e.signedMessage(), e.Signature)
}
