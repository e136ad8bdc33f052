package sframe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"
)

// ctrHMAC is the AES-CTR + HMAC AEAD of RFC 9605 section 4.5.1, an
// encrypt-then-MAC construction for suites that want tags shorter than
// GCM's 16 bytes:
//
//	enc_key, auth_key = sframe_key[:Nka], sframe_key[Nka:]
//	ct  = AES-CTR(enc_key, nonce || 0x00000000, pt)
//	tag = HMAC(auth_key, u64(len(aad)) || u64(len(ct)) || u64(Nt) || nonce || aad || ct)[:Nt]
//
// with every u64 big-endian. It implements cipher.AEAD.
type ctrHMAC struct {
	block   cipher.Block
	authKey []byte
	hash    func() hash.Hash
	tagLen  int
}

var errOpen = errors.New("sframe: CTR+HMAC tag mismatch")

// newCTRHMAC splits key (Nk bytes) into the AES key and the HMAC key. It
// copies the HMAC key, so the caller may clear key afterwards.
func newCTRHMAC(p suiteParams, key []byte) (*ctrHMAC, error) {
	block, err := aes.NewCipher(key[:p.nka])
	if err != nil {
		return nil, err
	}
	return &ctrHMAC{
		block:   block,
		authKey: append([]byte(nil), key[p.nka:]...),
		hash:    p.hash,
		tagLen:  p.nt,
	}, nil
}

func (c *ctrHMAC) NonceSize() int { return nonceSize }

func (c *ctrHMAC) Overhead() int { return c.tagLen }

// Seal appends ct || tag to dst. The caller has checked the nonce length
// and that plaintext is short enough for the 32-bit block counter.
func (c *ctrHMAC) Seal(dst, nonce, plaintext, aad []byte) []byte {
	ret, out := grow(dst, len(plaintext)+c.tagLen)
	ct := out[:len(plaintext)]
	c.xorKeyStream(ct, nonce, plaintext)
	c.sum(out[len(plaintext):], nonce, aad, ct)
	return ret
}

// Open checks the tag before it decrypts anything, so a forged frame yields
// no plaintext at all.
func (c *ctrHMAC) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < c.tagLen {
		return nil, errOpen
	}
	ct, tag := ciphertext[:len(ciphertext)-c.tagLen], ciphertext[len(ciphertext)-c.tagLen:]
	var want [64]byte
	c.sum(want[:c.tagLen], nonce, aad, ct)
	if !hmac.Equal(want[:c.tagLen], tag) {
		return nil, errOpen
	}
	ret, out := grow(dst, len(ct))
	c.xorKeyStream(out, nonce, ct)
	return ret, nil
}

// xorKeyStream runs AES-CTR from the block nonce || 0x00000000. Go's CTR
// increments all 128 bits, which equals RFC 9605's 32-bit counter because
// Key.seal caps frames below 2^32 blocks.
func (c *ctrHMAC) xorKeyStream(dst, nonce, src []byte) {
	var iv [aes.BlockSize]byte
	copy(iv[:], nonce)
	cipher.NewCTR(c.block, iv[:]).XORKeyStream(dst, src)
}

// sum writes the truncated tag into tag (len Nt).
func (c *ctrHMAC) sum(tag, nonce, aad, ct []byte) {
	m := hmac.New(c.hash, c.authKey)
	var lens [24]byte
	binary.BigEndian.PutUint64(lens[0:], uint64(len(aad)))
	binary.BigEndian.PutUint64(lens[8:], uint64(len(ct)))
	binary.BigEndian.PutUint64(lens[16:], uint64(c.tagLen))
	m.Write(lens[:])
	m.Write(nonce)
	m.Write(aad)
	m.Write(ct)
	var full [64]byte
	copy(tag, m.Sum(full[:0]))
}

// erase clears the HMAC key. The AES key schedule lives inside crypto/aes,
// out of reach; dropping the last reference to c is all that can be done.
func (c *ctrHMAC) erase() {
	clear(c.authKey)
}
